-- Forget one user's memory: its session and runs (explicitly too, for runs tables created without the cascade).
WITH gone AS (
    DELETE FROM {sessions} s
    WHERE s.session_id = %(session_id)s AND s.agent_id = %(agent_id)s AND s.session_type = 'agent'
    RETURNING s.session_id
)
DELETE FROM {runs} r USING gone WHERE r.session_id = gone.session_id
