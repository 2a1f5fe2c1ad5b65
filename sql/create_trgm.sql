-- pg_trgm for the name search index (a trusted extension: a database owner may create it). Run only when missing.
CREATE EXTENSION IF NOT EXISTS pg_trgm
