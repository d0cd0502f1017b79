-- The indexes the validation queries need at scale: every query filters on full_pass_started_at
-- (a window, or "started more than 2 h ago" for stuck imports).
CREATE INDEX IF NOT EXISTS user_profiles_full_pass_started_at_idx
    ON public.user_profiles (full_pass_started_at);
-- Query 2 and the stuck-import triggers read only rows still processing.
CREATE INDEX IF NOT EXISTS user_profiles_full_pass_processing_idx
    ON public.user_profiles (full_pass_started_at)
    WHERE full_pass_status = 'processing';
-- Query 2 and the stuck-import triggers, as of a past instant: imports complete after it were
-- still processing then (without this index that branch scans the whole table).
CREATE INDEX IF NOT EXISTS user_profiles_full_pass_completed_at_idx
    ON public.user_profiles (full_pass_completed_at)
    WHERE full_pass_status = 'complete';
