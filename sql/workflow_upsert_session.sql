-- agno's upsert_session for a WorkflowSession: insert with updated_at = created_at, or rewrite the workflow
-- columns and stamp updated_at when the row exists and belongs to this user (or to nobody).
INSERT INTO {sessions} AS s (session_id, session_type, workflow_id, user_id, session_data, workflow_data,
                             metadata, summary, created_at, updated_at)
VALUES (%(session_id)s, 'workflow', %(workflow_id)s, %(user_id)s, %(session_data)s, %(workflow_data)s,
        %(metadata)s, %(summary)s, %(now)s, %(now)s)
ON CONFLICT (session_id) DO UPDATE
SET workflow_id = EXCLUDED.workflow_id,
    user_id = EXCLUDED.user_id,
    workflow_data = EXCLUDED.workflow_data,
    session_data = EXCLUDED.session_data,
    summary = EXCLUDED.summary,
    metadata = EXCLUDED.metadata,
    updated_at = EXCLUDED.updated_at
WHERE s.user_id = %(user_id)s OR s.user_id IS NULL
RETURNING s.*
