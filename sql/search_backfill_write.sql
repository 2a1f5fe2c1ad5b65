-- One batch's rows replaced from its locked sessions and runs, with the same extraction as the triggers, and the
-- position recorded in the same transaction: an interrupted backfill resumes after the last batch that committed.
DELETE FROM {search}
WHERE session_id = ANY(%(sessions)s) AND ((run_id = '' AND position = -1) OR run_id = ANY(%(runs)s));
{index_runs};
INSERT INTO {search} (session_id, run_id, position, message_id, role, created_at, user_id, session_type,
                      component_id, run_index, document)
SELECT s.session_id, '', -1, NULL, NULL, s.created_at, s.user_id, s.session_type,
       CASE s.session_type WHEN 'agent' THEN s.agent_id WHEN 'team' THEN s.team_id
                           WHEN 'workflow' THEN s.workflow_id END,
       NULL, to_tsvector(c.config, left(s.session_data ->> 'session_name', {max_text}))
FROM {sessions} s CROSS JOIN (SELECT config FROM {state}) c
WHERE s.session_id = ANY(%(sessions)s) AND jsonb_typeof(s.session_data -> 'session_name') = 'string'
  AND s.session_data ->> 'session_name' <> '';
UPDATE {state} SET position = %(last)s;
