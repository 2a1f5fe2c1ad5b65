-- agno 3.x's runs table, exactly as its PostgresDb creates it; run only when the table is missing (its foreign key
-- takes a SHARE ROW EXCLUSIVE lock on the sessions table: migrate runs it under its lock timeout).
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
