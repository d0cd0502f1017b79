-- Query 1: overall success rate over a window (the runbook: the last 24 h), as of an instant.
-- Status as of %(as_of)s: a row completed after it was still processing then; failed counts as
-- failed (its failure time is not recorded). Rows still in flight count in the denominator, as in
-- the runbook's query; stuck = processing and started before %(stuck_before)s.
WITH imports AS (
    SELECT full_pass_started_at AS started_at,
           CASE
               WHEN full_pass_status = 'complete' AND full_pass_completed_at > %(as_of)s
                   THEN 'processing'
               ELSE full_pass_status
           END AS status
    FROM public.user_profiles
    WHERE full_pass_started_at >= %(window_start)s
      AND full_pass_started_at <= %(as_of)s
)
SELECT count(*) AS total_imports,
       count(*) FILTER (WHERE status = 'complete') AS successful_imports,
       count(*) FILTER (WHERE status = 'failed') AS failed_imports,
       count(*) FILTER (WHERE status = 'processing' AND started_at < %(stuck_before)s)
           AS stuck_imports,
       count(*) FILTER (WHERE status = 'processing' AND started_at >= %(stuck_before)s)
           AS in_flight_imports,
       round(100.0 * count(*) FILTER (WHERE status = 'complete') / nullif(count(*), 0), 2)
           AS success_rate_pct
FROM imports;
