-- Create a session; an existing id (of any type) leaves the row untouched and returns nothing (409).
INSERT INTO {sessions} (session_id, session_type, agent_id, team_id, workflow_id, user_id,
                        session_data, agent_data, team_data, workflow_data, metadata, summary,
                        created_at, updated_at)
VALUES (%(session_id)s, %(session_type)s, %(agent_id)s, %(team_id)s, %(workflow_id)s, %(user_id)s,
        %(session_data)s, %(agent_data)s, %(team_data)s, %(workflow_data)s, %(metadata)s, %(summary)s,
        %(created_at)s, %(created_at)s)
ON CONFLICT (session_id) DO NOTHING
RETURNING *, xmin AS row_version
