-- Forget every user's memory of one agent: only its `<agent_id>:` sessions, never its other sessions.
WITH gone AS (
    DELETE FROM {sessions} s
    WHERE s.agent_id = %(agent_id)s AND s.session_type = 'agent'
      AND left(s.session_id, length(%(prefix)s)) = %(prefix)s
    RETURNING s.session_id
)
DELETE FROM {runs} r USING gone WHERE r.session_id = gone.session_id
