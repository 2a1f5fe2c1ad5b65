-- Delete one session and its runs (explicitly too, for runs tables created without the cascade).
WITH gone AS (
    DELETE FROM {sessions} s
    WHERE s.session_id = %(session_id)s
      AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
    RETURNING s.session_id
)
DELETE FROM {runs} r USING gone WHERE r.session_id = gone.session_id
