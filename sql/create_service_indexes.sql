-- Indexes this service's list filters and sorts use; additive only, agno's columns are never altered. One statement
-- a line, built like agno_indexes.sql (CONCURRENTLY on a table that already existed). The metadata filters'
-- containments (`metadata @> ANY (...)`, storage/list_conditions.py) are answered by the jsonb_path_ops GIN index.
CREATE INDEX IF NOT EXISTS {ix_user_id} ON {sessions} USING btree (user_id, created_at);
CREATE INDEX IF NOT EXISTS {ix_agent_id} ON {sessions} USING btree (agent_id);
CREATE INDEX IF NOT EXISTS {ix_team_id} ON {sessions} USING btree (team_id);
CREATE INDEX IF NOT EXISTS {ix_workflow_id} ON {sessions} USING btree (workflow_id);
CREATE INDEX IF NOT EXISTS {ix_updated} ON {sessions} USING btree ((COALESCE(updated_at, created_at)));
CREATE INDEX IF NOT EXISTS {ix_metadata} ON {sessions} USING gin (metadata jsonb_path_ops);
