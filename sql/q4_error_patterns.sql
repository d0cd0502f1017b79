-- Query 4: error patterns of failed imports that started in the window, by exact error text
-- (the runbook's top 10; the gates ask for more rows to normalise them into signatures).
SELECT full_pass_error,
       count(*) AS error_count,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS percentage_of_errors,
       count(DISTINCT user_id) AS affected_users
FROM public.user_profiles
WHERE full_pass_status = 'failed'
  AND full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
GROUP BY full_pass_error
ORDER BY error_count DESC, full_pass_error
LIMIT %(limit)s;
