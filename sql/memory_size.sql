-- How many messages a memory session's runs hold (before the bound is applied).
SELECT COALESCE(SUM(CASE WHEN jsonb_typeof(r.run_data -> 'messages') = 'array'
                         THEN jsonb_array_length(r.run_data -> 'messages') ELSE 0 END), 0)::bigint AS total
FROM {runs} r
JOIN {sessions} s ON s.session_id = r.session_id
WHERE r.session_id = %(session_id)s AND s.agent_id = %(agent_id)s AND s.session_type = 'agent'
