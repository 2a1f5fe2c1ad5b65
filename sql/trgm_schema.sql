-- Create pg_trgm where missing (a trusted extension: a database owner may) and say which schema holds it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pg_trgm'
