-- Trigram index for the list's session_name search (an unanchored ILIKE on a JSON field): only where pg_trgm
-- exists; the expression is exactly the one list_sessions.sql filters on. Built like agno_indexes.sql.
CREATE INDEX IF NOT EXISTS {ix_name} ON {sessions} USING gin ((COALESCE(session_data ->> 'session_name', '')) {trgm_ops});
