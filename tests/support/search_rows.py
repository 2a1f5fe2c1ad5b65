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
PENDING = "SELECT count(*) FROM ai.agno_sessions_svc_search_pending"
# What a search sees (sql/search_messages.sql): the rows of runs not queued, and queued runs extracted afresh.
SEARCHED = f"""
SELECT {COLUMNS}, document::text FROM {TABLE} h
WHERE NOT EXISTS (SELECT 1 FROM ai.agno_sessions_svc_search_pending p
                  WHERE p.session_id = h.session_id AND p.run_id = h.run_id AND h.position >= 0)
UNION ALL
SELECT r.session_id, r.run_id, e.message_position, e.message_id, e.role, e.created_at, s.user_id, s.session_type,
       CASE s.session_type WHEN 'agent' THEN s.agent_id WHEN 'team' THEN s.team_id
                           WHEN 'workflow' THEN s.workflow_id END,
       r.run_index, e.document::text
FROM ai.agno_sessions_svc_search_pending p
JOIN ai.agno_runs r ON r.run_id = p.run_id AND r.session_id = p.session_id
JOIN ai.agno_sessions s ON s.session_id = r.session_id
CROSS JOIN LATERAL {EXTRACT}(r.run_data, r.created_at, 'simple') e
ORDER BY 1, 2, 3"""


def drain(dsn: str) -> int:
    """Index every queued run the way the service's drainer threads do; how many were indexed."""
    from service.core.config import load_settings
    from service.storage import search_drain
    from service.storage.registry import open_database

    (config,) = load_settings({"AGNO_PG_DSN": dsn}).databases
    db = open_database(config, 2, 30.0)
    try:
        return search_drain.drain_all(db)
    finally:
        db.close()


def assert_current(rows) -> None:
    """Searches see exactly a full re-extraction at once (queued runs read afresh), and after a drain the table
    itself holds it, with nothing queued."""
    expected = rows.execute(REEXTRACTED)
    assert rows.execute(SEARCHED) == expected
    drain(rows.dsn)
    assert rows.execute(INDEXED) == expected
    assert rows.execute(PENDING) == [(0,)]
