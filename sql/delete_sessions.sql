-- Delete sessions (those the user owns when user_id is given) and the runs of exactly those sessions, explicitly
-- too, for runs tables created without the cascade. Returns the ids it deleted (none for a missing id or another
-- user's session) and which of the per-session tables agno keeps beside them exist: the caller cascades into those
-- in this transaction (the final SELECT is cascade_related.sql), and whether legal holds exist to be checked (the
-- caller refuses held ids, rolling the delete back).
WITH gone AS (
    DELETE FROM {sessions} s
    WHERE s.session_id = ANY(%(session_ids)s::text[])
      AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
    RETURNING s.session_id
), runs_gone AS (
    DELETE FROM {runs} r USING gone WHERE r.session_id = gone.session_id
)
{related},
       to_regclass(%(holds)s::text) IS NOT NULL AS holds  -- the legal holds' table (migrate --lifecycle)
