-- The search index's tables (agno's are never altered): one row per searchable message (position >= 0) and one per
-- stored session name (run_id '', position -1); the one-row state the triggers read the text search configuration
-- from (every writer indexes with the same one) and the backfill records its position in; and the runs written
-- since they were last indexed ({pending}: a writer's trigger only queues its run there, the service's drain indexes
-- it a moment later, and until then every search reads that run itself instead of its rows). Created empty, before
-- the triggers: nobody can hold them yet. The primary key's btree, named {sid_name}, serves the replacement of one
-- run's rows and a session's rows.
CREATE TABLE IF NOT EXISTS {state} (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    config regconfig NOT NULL,
    position character varying,  -- the last session_id the backfill finished (NULL: none yet)
    complete boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
INSERT INTO {state} (config) VALUES (%(config)s::regconfig) ON CONFLICT (singleton) DO NOTHING;
CREATE TABLE IF NOT EXISTS {search} (
    session_id character varying NOT NULL,
    run_id character varying NOT NULL,
    position integer NOT NULL,
    message_id text,
    role text,
    created_at bigint,
    user_id character varying,
    session_type character varying,
    component_id character varying,
    run_index bigint,
    document tsvector NOT NULL,
    CONSTRAINT {sid} PRIMARY KEY (session_id, run_id, position)
);
CREATE TABLE IF NOT EXISTS {pending} (
    session_id character varying NOT NULL,
    run_id character varying NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT {pending_key} PRIMARY KEY (session_id, run_id)
);
-- Ten times the default statistics on the documents: ANALYZE then keeps the 10,000 most common lexemes, so the
-- planner's estimate of a word's matches (search_estimate.sql: which order a first page takes) is its real count
-- for every word but the rare ones, which it estimates as rarer than the last kept.
ALTER TABLE {search} ALTER COLUMN document SET STATISTICS 1000;
