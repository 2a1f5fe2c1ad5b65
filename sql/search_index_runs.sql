-- The rows of the runs the `runs` parameter names (run ids), as their committed versions give them, with the
-- extraction the scan reads: composed into the backfill's batches and the drain's, which removed their old rows.
INSERT INTO {search} (session_id, run_id, position, message_id, role, created_at, user_id, session_type,
                      component_id, run_index, document)
SELECT r.session_id, r.run_id, e.message_position, e.message_id, e.role, e.created_at, s.user_id, s.session_type,
       CASE s.session_type WHEN 'agent' THEN s.agent_id WHEN 'team' THEN s.team_id
                           WHEN 'workflow' THEN s.workflow_id END,
       r.run_index, e.document
FROM {runs} r
JOIN {sessions} s ON s.session_id = r.session_id
CROSS JOIN (SELECT config FROM {state}) c
CROSS JOIN LATERAL {fn_extract}(r.run_data, r.created_at, c.config) e
WHERE r.run_id = ANY(%(runs)s)
