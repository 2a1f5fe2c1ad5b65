-- agno 3.x's sessions table, exactly as its PostgresDb creates it (names, types, constraints); run only when the
-- table is missing, so its indexes (agno_indexes.sql) are created in the same transaction, before anyone sees it.
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
