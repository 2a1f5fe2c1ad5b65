-- The schema that holds pg_trgm (its operator class is named through it; NULL when not installed), and whether
-- this server could install it at all (PostgreSQL's contrib modules).
SELECT (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm') AS schema,
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available
