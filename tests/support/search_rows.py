"""The search index's table as stored and as a full re-extraction from agno's tables computes it (the same
extraction function): the integration and system tests assert the two are equal."""

TABLE = "ai.agno_sessions_svc_search"
EXTRACT = "ai.agno_sessions_svc_search_extract"
COLUMNS = "session_id, run_id, position, message_id, role, created_at, user_id, session_type, component_id, run_index"
# The whole index recomputed from agno's tables with the one extraction function: what the table must equal.
REEXTRACTED = f"""
SELECT r.session_id, r.run_id, e.message_position, e.message_id, e.role, e.created_at, s.user_id, s.session_type,
       CASE s.session_type WHEN 'agent' THEN s.agent_id WHEN 'team' THEN s.team_id
                           WHEN 'workflow' THEN s.workflow_id END,
       r.run_index, e.document::text
FROM ai.agno_runs r JOIN ai.agno_sessions s USING (session_id)
CROSS JOIN LATERAL {EXTRACT}(r.run_data, r.created_at, 'simple') e
UNION ALL
SELECT s.session_id, '', -1, NULL, NULL, s.created_at, s.user_id, s.session_type,
       CASE s.session_type WHEN 'agent' THEN s.agent_id WHEN 'team' THEN s.team_id
                           WHEN 'workflow' THEN s.workflow_id END,
       NULL, to_tsvector('simple', s.session_data ->> 'session_name')::text
FROM ai.agno_sessions s
WHERE jsonb_typeof(s.session_data -> 'session_name') = 'string' AND s.session_data ->> 'session_name' <> ''
ORDER BY 1, 2, 3"""
INDEXED = f"SELECT {COLUMNS}, document::text FROM {TABLE} ORDER BY 1, 2, 3"
