-- Prerequisite 1: the CHECK constraint that limits full_pass_status to the four states.
SELECT con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint AS con
JOIN pg_class AS rel ON rel.oid = con.conrelid
JOIN pg_namespace AS nsp ON nsp.oid = rel.relnamespace
WHERE nsp.nspname = 'public'
  AND rel.relname = 'user_profiles'
  AND con.contype = 'c'
  AND position('full_pass_status' IN pg_get_constraintdef(con.oid)) > 0;
