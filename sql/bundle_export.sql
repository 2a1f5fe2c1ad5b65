-- One batch of sessions for a bundle, after a session id, in session id order: each row's cells in PostgreSQL's
-- text form (SQL NULL as JSON null), with its runs and the rows agno keeps beside it, in one statement (one snapshot).
SELECT s.session_id, {cells} AS sessions{related}
FROM {sessions} s
{where}
ORDER BY s.session_id
LIMIT %(batch)s
