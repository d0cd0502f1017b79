-- Durations of imports that started in the window, as of %(as_of)s, floored to 0.1 minute (so a
-- whole-minute limit compares exactly; the row count follows the window, not the table):
-- complete ones by how long they took; those still in flight past %(slow_minutes)s minutes by
-- their age so far (already slow, and at least that long: `in_flight`). Younger imports in
-- flight are not known yet and are left out.
WITH imports AS (
    SELECT full_pass_started_at AS started_at,
           full_pass_completed_at AS completed_at,
           full_pass_status = 'complete' AND full_pass_completed_at <= %(as_of)s AS complete,
           full_pass_status = 'processing'
               OR (full_pass_status = 'complete' AND full_pass_completed_at > %(as_of)s)
               AS processing
    FROM public.user_profiles
    WHERE full_pass_started_at >= %(window_start)s
      AND full_pass_started_at <= %(as_of)s
)
SELECT floor(extract(epoch FROM
                 (CASE WHEN complete THEN completed_at ELSE %(as_of)s END) - started_at) / 6.0
       )::numeric / 10 AS minutes,
       NOT complete AS in_flight,
       count(*) AS imports
FROM imports
WHERE complete
   OR (processing AND started_at <= %(as_of)s - make_interval(mins => %(slow_minutes)s))
GROUP BY 1, 2
ORDER BY 1, 2;
