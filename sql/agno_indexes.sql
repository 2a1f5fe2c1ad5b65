-- agno 3.x's indexes, exactly as its PostgresDb creates them; one statement a line. Plain inside the transaction
-- that created their table; CONCURRENTLY (schema.py rewrites the line) on a table that already existed.
CREATE INDEX IF NOT EXISTS {ix_sessions_created_at} ON {sessions} USING btree (created_at);
CREATE INDEX IF NOT EXISTS {ix_sessions_session_type} ON {sessions} USING btree (session_type);
CREATE INDEX IF NOT EXISTS {ix_runs_agent_id} ON {runs} USING btree (agent_id);
CREATE INDEX IF NOT EXISTS {ix_runs_created_at} ON {runs} USING btree (created_at);
CREATE INDEX IF NOT EXISTS {ix_runs_run_type} ON {runs} USING btree (run_type);
CREATE INDEX IF NOT EXISTS {ix_runs_session_id} ON {runs} USING btree (session_id);
CREATE INDEX IF NOT EXISTS {ix_runs_session_id_run_index} ON {runs} USING btree (session_id, run_index);
CREATE INDEX IF NOT EXISTS {ix_runs_status} ON {runs} USING btree (status);
CREATE INDEX IF NOT EXISTS {ix_runs_team_id} ON {runs} USING btree (team_id);
CREATE INDEX IF NOT EXISTS {ix_runs_user_id} ON {runs} USING btree (user_id);
CREATE INDEX IF NOT EXISTS {ix_runs_workflow_id} ON {runs} USING btree (workflow_id);
