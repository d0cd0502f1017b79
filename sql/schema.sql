-- user_profiles shaped like the real table (Supabase, public schema): one row per user, re-imports
-- overwrite the row. The cutover migration's columns are at the end; a few unrelated columns of the
-- real table are kept so the suite proves it tolerates them.
CREATE TABLE IF NOT EXISTS public.user_profiles (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                uuid NOT NULL UNIQUE,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    display_name           text,
    ai_name                text,
    soulprint              jsonb,
    import_status          text,
    total_conversations    integer,
    total_messages         integer,
    -- the cutover migration
    full_pass_status       text DEFAULT 'pending',
    full_pass_started_at   timestamptz,
    full_pass_completed_at timestamptz,
    full_pass_error        text,
    memory_md              text,
    CONSTRAINT user_profiles_full_pass_status_check
        CHECK (full_pass_status IN ('pending', 'processing', 'complete', 'failed'))
);
