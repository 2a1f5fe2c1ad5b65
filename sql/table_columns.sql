-- Column names of one table, to tell a fresh agno 3.x sessions table from a migrated 2.x one.
SELECT array_agg(column_name::text ORDER BY ordinal_position) AS columns
FROM information_schema.columns
WHERE table_schema = %(schema)s AND table_name = %(table)s
