-- Query 2: stuck imports, all time: processing as of %(as_of)s and started before %(stuck_before)s,
-- oldest first.
SELECT user_id,
       'processing' AS full_pass_status,
       full_pass_started_at,
       floor(extract(epoch FROM (%(as_of)s - full_pass_started_at)) / 60)::integer AS minutes_stuck,
       full_pass_error
FROM public.user_profiles
WHERE full_pass_started_at < %(stuck_before)s
  AND (full_pass_status = 'processing'
       OR (full_pass_status = 'complete' AND full_pass_completed_at > %(as_of)s))
ORDER BY full_pass_started_at;
