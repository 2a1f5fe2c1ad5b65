-- What migrate finds in place: which of the named relations exist in the schema (r table, i index), and whether
-- each index is valid (an interrupted CREATE INDEX CONCURRENTLY leaves an invalid one behind).
SELECT c.relname::text AS name, c.relkind::text AS kind, i.indisvalid AS valid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = %(schema)s AND c.relname = ANY(%(names)s)
