-- Columns agno's table has and its archive lacks (agno added them after `migrate --lifecycle` ran), with their types:
-- migrate adds them to the archive, nullable (archived rows predate them).
SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = to_regclass(%(live)s) AND a.attnum > 0 AND NOT a.attisdropped
  AND NOT EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = to_regclass(%(archive)s)
                  AND b.attname = a.attname AND NOT b.attisdropped)
ORDER BY a.attnum
