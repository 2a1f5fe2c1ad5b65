-- The columns (name and SQL type, in table order) of the tables a bundle carries, those that exist, by the bundle's
-- table name: carried by name from the catalog, so columns agno adds later travel too. Generated columns are left
-- out (PostgreSQL computes them).
SELECT k.name, array_agg(a.attname::text ORDER BY a.attnum) AS columns,
       array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) AS types
FROM unnest(%(names)s::text[], %(schemas)s::text[], %(tables)s::text[]) AS k(name, schema_name, table_name)
JOIN pg_attribute a ON a.attrelid = to_regclass(format('%%I.%%I', k.schema_name, k.table_name))
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
GROUP BY k.name
