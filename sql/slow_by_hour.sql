-- Imports by hour of start over the window, as of %(as_of)s, for the 6-hour rule of the rollback
-- table: complete ones, those of them that took %(slow_minutes)s minutes or more, and those still
-- in flight: past %(slow_minutes)s minutes they are already slow (known); younger ones are not
-- known yet (left out of the count and the total).
WITH imports AS (
    SELECT date_trunc('hour', full_pass_started_at) AS hour,
           full_pass_started_at AS started_at,
           full_pass_completed_at - full_pass_started_at AS took,
           CASE
               WHEN full_pass_status = 'complete' AND full_pass_completed_at <= %(as_of)s
                   THEN 'complete'
               WHEN full_pass_status = 'processing'
                    OR (full_pass_status = 'complete' AND full_pass_completed_at > %(as_of)s)
                   THEN 'processing'
               ELSE 'other'
           END AS status
    FROM public.user_profiles
    WHERE full_pass_started_at >= %(window_start)s
      AND full_pass_started_at <= %(as_of)s
)
SELECT hour,
       count(*) FILTER (WHERE status = 'complete') AS completed,
       count(*) FILTER (WHERE status = 'complete'
                        AND took >= make_interval(mins => %(slow_minutes)s)) AS slow_completed,
       count(*) FILTER (WHERE status = 'processing'
                        AND started_at <= %(as_of)s - make_interval(mins => %(slow_minutes)s))
           AS in_flight_slow,
       count(*) FILTER (WHERE status = 'processing'
                        AND started_at > %(as_of)s - make_interval(mins => %(slow_minutes)s))
           AS in_flight_young
FROM imports
GROUP BY 1
ORDER BY 1;
