-- Failed imports that started in the window by error text and hour of start (as of %(as_of)s):
-- where a signature is concentrated in time (a burst against its background).
SELECT full_pass_error,
       date_trunc('hour', full_pass_started_at) AS hour,
       count(*) AS error_count
FROM public.user_profiles
WHERE full_pass_status = 'failed'
  AND full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
GROUP BY 1, 2
ORDER BY 1, 2;
