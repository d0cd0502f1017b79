-- Query 5 (optional): v1 vs v2 success rates. Runs only where a pipeline_version column exists;
-- the real table has none, so v1 traffic is otherwise seen in the RLM logs only.
SELECT pipeline_version,
       count(*) AS total_imports,
       round(100.0 * count(*) FILTER (WHERE full_pass_status = 'complete')
             / nullif(count(*), 0), 2) AS success_rate_pct
FROM public.user_profiles
WHERE full_pass_started_at >= %(window_start)s
  AND full_pass_started_at <= %(as_of)s
GROUP BY pipeline_version
ORDER BY pipeline_version;
