-- The search index's two tables (agno's are never altered): one row per searchable message (position >= 0) and
-- one per stored session name (run_id '', position -1), and the one-row state the triggers read the text search
-- configuration from (every writer indexes with the same one) and the backfill records its position in. Created
-- empty, before the triggers: nobody can hold them yet. The primary key's btree, named {sid_name}, serves the
-- triggers' replacement of one run's rows and a session's rows.
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
