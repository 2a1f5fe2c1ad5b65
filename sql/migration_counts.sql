-- The session counts' function body and the definitions of its triggers on the sessions table, as the catalog
-- has them (pg_get_triggerdef: PostgreSQL's own normal form, compared with a probe's), with whether each fires.
SELECT 'function' AS kind, p.proname::text AS name, p.prosrc AS definition, NULL AS enabled
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s AND p.proname = %(function)s AND p.pronargs = 0
UNION ALL
SELECT 'trigger', t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text
FROM pg_trigger t
WHERE t.tgrelid = to_regclass(%(table)s) AND t.tgname = ANY(%(triggers)s)
