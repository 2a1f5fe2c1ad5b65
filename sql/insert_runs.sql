-- Preloaded runs of a new session (extension), in array order; run_index defaults to the position.
-- Ids already taken (or repeated) come back missing from RETURNING, and the caller rolls everything back.
INSERT INTO {runs} (run_id, session_id, run_type, agent_id, team_id, workflow_id, user_id,
                    parent_run_id, status, run_index, run_data, created_at, updated_at)
VALUES %s
ON CONFLICT (run_id) DO NOTHING
RETURNING run_id, xmin AS row_version
