-- Prerequisite 6: a write that changes nothing even if it were allowed (WHERE false), run in a
-- transaction that is rolled back. A read-only session must reject it.
UPDATE public.user_profiles SET user_id = user_id WHERE false;
