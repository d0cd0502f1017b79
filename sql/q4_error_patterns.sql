-- Query 4: error patterns of failed imports that started in the window, by exact error text
-- (the runbook's top 10; the gates ask for more rows to normalise them into signatures), with
-- when each was first and last seen (by start: a failure's own time is not recorded).
SELECT full_pass_error,
       count(*) AS error_count,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS percentage_of_errors,
       count(DISTINCT user_id) AS affected_users,
       min(full_pass_started_at) AS first_seen,
       max(full_pass_started_at) AS last_seen
FROM public.user_profiles
WHERE full_pass_status = 'failed'
  AND full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
GROUP BY full_pass_error
ORDER BY error_count DESC, full_pass_error
LIMIT %(limit)s;
