-- Query 3: duration histogram of imports complete as of %(as_of)s that started in the window.
-- Exactly 30 minutes falls in '>30min'; empty buckets are absent.
WITH durations AS (
    SELECT extract(epoch FROM (full_pass_completed_at - full_pass_started_at)) / 60.0 AS minutes
    FROM public.user_profiles
    WHERE full_pass_status = 'complete'
      AND full_pass_started_at >= %(window_start)s
      AND full_pass_started_at <= %(as_of)s
      AND full_pass_completed_at IS NOT NULL
      AND full_pass_completed_at <= %(as_of)s
), bucketed AS (
    SELECT CASE
               WHEN minutes < 5 THEN '<5min'
               WHEN minutes < 10 THEN '5-10min'
               WHEN minutes < 20 THEN '10-20min'
               WHEN minutes < 30 THEN '20-30min'
               ELSE '>30min'
           END AS duration_bucket,
           CASE
               WHEN minutes < 5 THEN 1
               WHEN minutes < 10 THEN 2
               WHEN minutes < 20 THEN 3
               WHEN minutes < 30 THEN 4
               ELSE 5
           END AS bucket_order,
           minutes
    FROM durations
)
SELECT duration_bucket,
       count(*) AS import_count,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS percentage,
       round(avg(minutes)::numeric, 3) AS mean_minutes
FROM bucketed
GROUP BY duration_bucket, bucket_order
ORDER BY bucket_order;
