-- One workflow run row, its columns derived from run_data as agno's build_single_run_row does.
INSERT INTO {runs} (run_id, session_id, run_type, agent_id, team_id, workflow_id, user_id,
                    parent_run_id, status, run_index, run_data, created_at, updated_at)
VALUES (%(run_id)s, %(session_id)s, 'workflow', NULL, NULL, %(workflow_id)s, %(user_id)s,
        NULL, %(status)s, %(run_index)s, %(run_data)s, %(created_at)s, %(now)s)
