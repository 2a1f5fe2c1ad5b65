-- The search index's functions (their bodies) and triggers (their definitions, and whether each fires: 'A' =
-- always), as the catalog has them; its tables and GIN index are read with migration_relations.sql.
SELECT 'function' AS kind, p.proname::text AS name, p.prosrc AS definition, NULL::text AS enabled
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s AND p.proname = ANY(%(functions)s)
UNION ALL
SELECT 'trigger', t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text
FROM pg_trigger t
WHERE t.tgrelid IN (to_regclass(%(sessions)s), to_regclass(%(runs)s)) AND t.tgname = ANY(%(triggers)s)
