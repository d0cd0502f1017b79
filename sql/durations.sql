-- Durations of imports complete as of %(as_of)s that started in the window, binned to 0.1 minute
-- (enough for a rank test between stages; the row count follows the window, not the table).
SELECT round((extract(epoch FROM (full_pass_completed_at - full_pass_started_at)) / 60.0)::numeric, 1)
           AS minutes,
       count(*) AS imports
FROM public.user_profiles
WHERE full_pass_status = 'complete'
  AND full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
  AND full_pass_completed_at IS NOT NULL
  AND full_pass_completed_at <= %(as_of)s
GROUP BY 1
ORDER BY 1;
