-- Data-integrity invariants over rows the v2 pipeline started since %(window_start)s (the
-- trigger runs every few minutes, so older rows were judged by earlier runs; the window keeps the
-- cost on the started_at index). One row per broken invariant and user, at most %(limit)s per
-- invariant. A start in the future is judged against the database's clock, not the instant
-- measured: rows after that instant are legitimate when measuring the past.
WITH touched AS (
    SELECT user_id, full_pass_status, full_pass_started_at, full_pass_completed_at,
           full_pass_error, memory_md
    FROM public.user_profiles
    WHERE full_pass_started_at >= %(window_start)s
    UNION ALL
    SELECT user_id, full_pass_status, full_pass_started_at, full_pass_completed_at,
           full_pass_error, memory_md
    FROM public.user_profiles
    WHERE full_pass_status = 'processing' AND full_pass_started_at IS NULL
), broken AS (
    SELECT 'complete_without_completed_at' AS invariant, user_id FROM touched
        WHERE full_pass_status = 'complete' AND full_pass_completed_at IS NULL
    UNION ALL
    SELECT 'completed_before_started', user_id FROM touched
        WHERE full_pass_status = 'complete' AND full_pass_completed_at < full_pass_started_at
    UNION ALL
    SELECT 'complete_without_memory_md', user_id FROM touched
        WHERE full_pass_status = 'complete' AND coalesce(btrim(memory_md), '') = ''
    UNION ALL
    SELECT 'failed_without_error', user_id FROM touched
        WHERE full_pass_status = 'failed' AND coalesce(btrim(full_pass_error), '') = ''
    UNION ALL
    SELECT 'processing_without_started_at', user_id FROM touched
        WHERE full_pass_status = 'processing' AND full_pass_started_at IS NULL
    UNION ALL
    SELECT 'status_not_allowed', user_id FROM touched
        WHERE full_pass_status IS NULL
           OR full_pass_status NOT IN ('pending', 'processing', 'complete', 'failed')
    UNION ALL
    SELECT 'started_in_future', user_id FROM touched
        WHERE full_pass_started_at > clock_timestamp() + interval '5 minutes'
), ranked AS (
    SELECT invariant, user_id,
           count(*) OVER (PARTITION BY invariant) AS broken_rows,
           row_number() OVER (PARTITION BY invariant ORDER BY user_id) AS position
    FROM broken
)
SELECT invariant, user_id, broken_rows
FROM ranked
WHERE position <= %(limit)s
ORDER BY invariant, user_id;
