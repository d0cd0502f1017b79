-- Prerequisite 6: can this session's role read user_profiles, and will row-level security hide rows?
SELECT current_user AS role_name,
       has_table_privilege(current_user, 'public.user_profiles', 'SELECT') AS can_select,
       rel.relrowsecurity AS rls_enabled,
       rol.rolbypassrls OR rol.rolsuper OR pg_get_userbyid(rel.relowner) = current_user
           AS bypasses_rls,
       EXISTS (
           SELECT 1 FROM pg_policies AS pol
           WHERE pol.schemaname = 'public' AND pol.tablename = 'user_profiles'
             AND pol.cmd IN ('SELECT', 'ALL')
             AND (pol.roles && ARRAY[current_user::name, 'public'::name])
       ) AS has_select_policy,
       current_setting('default_transaction_read_only') AS default_read_only
FROM pg_class AS rel
JOIN pg_namespace AS nsp ON nsp.oid = rel.relnamespace
JOIN pg_roles AS rol ON rol.rolname = current_user
WHERE nsp.nspname = 'public' AND rel.relname = 'user_profiles';
