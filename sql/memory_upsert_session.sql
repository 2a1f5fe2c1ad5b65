-- The user's memory session, as agno writes an agent session with nothing set (JSON null columns);
-- an existing one is touched. Nothing returned: the id belongs to some other session, which is never taken over.
INSERT INTO {sessions} AS s (session_id, session_type, agent_id, user_id, session_data, agent_data, metadata,
                             summary, created_at, updated_at)
VALUES (%(session_id)s, 'agent', %(agent_id)s, %(user_id)s, 'null', 'null', 'null', 'null', %(now)s, %(now)s)
ON CONFLICT (session_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
WHERE s.session_type = 'agent' AND s.agent_id = EXCLUDED.agent_id AND s.user_id = EXCLUDED.user_id
RETURNING s.session_id
