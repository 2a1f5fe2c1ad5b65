-- The messages of every run of a memory session, in agno's read order.
SELECT r.run_data -> 'messages' AS messages
FROM {runs} r
JOIN {sessions} s ON s.session_id = r.session_id
WHERE r.session_id = %(session_id)s AND s.agent_id = %(agent_id)s AND s.session_type = 'agent'
ORDER BY r.run_index, r.created_at, r.run_id
