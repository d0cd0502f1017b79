-- Prerequisite 1: the cutover migration's columns on user_profiles (the runbook expects 4 rows).
SELECT column_name, data_type, column_default
FROM information_schema.columns
WHERE table_schema = 'public'
  AND table_name = 'user_profiles'
  AND column_name IN ('full_pass_status', 'full_pass_started_at',
                      'full_pass_completed_at', 'full_pass_error')
ORDER BY column_name;
