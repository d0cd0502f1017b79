-- Completed imports and those that took 30 minutes or more, by hour of start, over the window
-- (as of %(as_of)s): where a slowdown began, for the 6-hour rule of the rollback table.
SELECT date_trunc('hour', full_pass_started_at) AS hour,
       count(*) AS completed,
       count(*) FILTER (WHERE full_pass_completed_at - full_pass_started_at
                        >= make_interval(mins => %(slow_minutes)s)) AS slow
FROM public.user_profiles
WHERE full_pass_status = 'complete'
  AND full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
  AND full_pass_completed_at <= %(as_of)s
GROUP BY 1
ORDER BY 1;
