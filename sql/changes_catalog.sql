-- The change log's functions (their bodies) and triggers (whether each fires: 'A' = always; on which of agno's
-- tables), as the catalog has them.
SELECT 'function' AS kind, p.proname::text AS name, p.prosrc AS definition, NULL::text AS enabled, NULL::text AS tbl
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s AND p.proname = ANY(%(functions)s)
UNION ALL
SELECT 'trigger', t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text, CASE WHEN t.tgrelid = to_regclass(%(sessions)s) THEN 'sessions' ELSE 'runs' END
FROM pg_trigger t
WHERE t.tgrelid IN (to_regclass(%(sessions)s), to_regclass(%(runs)s)) AND t.tgname = ANY(%(triggers)s)
