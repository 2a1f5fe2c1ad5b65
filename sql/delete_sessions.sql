-- Delete many sessions (those the user owns when user_id is given) and the runs of exactly those sessions.
WITH gone AS (
    DELETE FROM {sessions} s
    WHERE s.session_id = ANY(%(session_ids)s::text[])
      AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
    RETURNING s.session_id
)
DELETE FROM {runs} r USING gone WHERE r.session_id = gone.session_id
