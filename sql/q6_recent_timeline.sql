-- Query 6: imports by hour over the window (the runbook: the last 6 h), newest hour first.
-- Zero imports after a stage change means routing is broken.
SELECT date_trunc('hour', full_pass_started_at) AS hour,
       count(*) AS imports_started,
       count(*) FILTER (WHERE full_pass_status = 'complete'
                        AND full_pass_completed_at <= %(as_of)s) AS completed,
       count(*) FILTER (WHERE full_pass_status = 'failed') AS failed,
       count(*) FILTER (WHERE full_pass_status = 'processing'
                        OR (full_pass_status = 'complete'
                            AND full_pass_completed_at > %(as_of)s)) AS in_progress
FROM public.user_profiles
WHERE full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
GROUP BY 1
ORDER BY 1 DESC;
