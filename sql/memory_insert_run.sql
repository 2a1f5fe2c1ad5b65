-- One message as one completed agent run, appended after the session's last run (caller holds the user's lock).
INSERT INTO {runs} (run_id, session_id, run_type, agent_id, user_id, status, run_index, run_data, created_at,
                    updated_at)
SELECT %(run_id)s, %(session_id)s, 'agent', %(agent_id)s, %(user_id)s, 'COMPLETED',
       COALESCE(MAX(r.run_index) + 1, 0), %(run_data)s, %(now)s, %(now)s
FROM {runs} r
WHERE r.session_id = %(session_id)s
