-- v2 imports started before the rollback (%(rollback_at)s) and still processing as of %(as_of)s.
SELECT user_id, full_pass_started_at,
       floor(extract(epoch FROM (%(as_of)s - full_pass_started_at)) / 60)::integer AS minutes_running
FROM public.user_profiles
WHERE full_pass_started_at < %(rollback_at)s
  AND full_pass_started_at >= %(window_start)s
  AND (full_pass_status = 'processing'
       OR (full_pass_status = 'complete' AND full_pass_completed_at > %(as_of)s))
ORDER BY full_pass_started_at;
