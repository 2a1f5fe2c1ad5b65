-- agno 3.x's sessions and runs tables, exactly as its PostgresDb creates them (names, types, constraints, indexes).
CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {sessions} (
    session_id character varying NOT NULL PRIMARY KEY,
    session_type character varying NOT NULL,
    agent_id character varying,
    team_id character varying,
    workflow_id character varying,
    user_id character varying,
    session_data jsonb,
    agent_data jsonb,
    team_data jsonb,
    workflow_data jsonb,
    metadata jsonb,
    summary jsonb,
    created_at bigint NOT NULL,
    updated_at bigint
);
CREATE INDEX IF NOT EXISTS {ix_sessions_created_at} ON {sessions} USING btree (created_at);
CREATE INDEX IF NOT EXISTS {ix_sessions_session_type} ON {sessions} USING btree (session_type);

CREATE TABLE IF NOT EXISTS {runs} (
    run_id character varying NOT NULL PRIMARY KEY,
    session_id character varying NOT NULL REFERENCES {sessions} (session_id) ON DELETE CASCADE,
    run_type character varying NOT NULL,
    agent_id character varying,
    team_id character varying,
    workflow_id character varying,
    user_id character varying,
    parent_run_id character varying,
    status character varying,
    run_index bigint,
    run_data jsonb NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint
);
CREATE INDEX IF NOT EXISTS {ix_runs_agent_id} ON {runs} USING btree (agent_id);
CREATE INDEX IF NOT EXISTS {ix_runs_created_at} ON {runs} USING btree (created_at);
CREATE INDEX IF NOT EXISTS {ix_runs_run_type} ON {runs} USING btree (run_type);
CREATE INDEX IF NOT EXISTS {ix_runs_session_id} ON {runs} USING btree (session_id);
CREATE INDEX IF NOT EXISTS {ix_runs_session_id_run_index} ON {runs} USING btree (session_id, run_index);
CREATE INDEX IF NOT EXISTS {ix_runs_status} ON {runs} USING btree (status);
CREATE INDEX IF NOT EXISTS {ix_runs_team_id} ON {runs} USING btree (team_id);
CREATE INDEX IF NOT EXISTS {ix_runs_user_id} ON {runs} USING btree (user_id);
CREATE INDEX IF NOT EXISTS {ix_runs_workflow_id} ON {runs} USING btree (workflow_id);
