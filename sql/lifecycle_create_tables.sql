-- The lifecycle's side tables (`agno-session migrate --lifecycle`): archived sessions and runs with agno's columns
-- (LIKE copies names, types and NOT NULLs, nothing else: no defaults, checks or foreign keys into agno's tables) and
-- what archiving adds; legal holds on session ids, live or archived; erasure jobs and their receipts. Tables of
-- their own: creating them reads agno's tables' definitions (LIKE) and never writes them.
CREATE TABLE IF NOT EXISTS {archived_sessions} (
    LIKE {sessions},
    archived_at bigint NOT NULL,
    archived_by text,
    reason text,
    PRIMARY KEY (session_id)
);
CREATE TABLE IF NOT EXISTS {archived_runs} (
    LIKE {runs},
    PRIMARY KEY (run_id),
    FOREIGN KEY (session_id) REFERENCES {archived_sessions} (session_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS {archived_runs_session} ON {archived_runs} (session_id);
CREATE TABLE IF NOT EXISTS {holds} (
    session_id text PRIMARY KEY,
    reason text NOT NULL,
    until bigint,
    held_by text,
    held_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {erasures} (
    receipt_id text PRIMARY KEY,
    user_hash text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    dry_run boolean NOT NULL DEFAULT false,
    override_holds boolean NOT NULL DEFAULT false,
    requested_by text,
    user_ref text,
    counts jsonb,
    error text,
    started_at bigint,
    finished_at bigint,
    created_at bigint NOT NULL,
    claimed_by text,  -- the worker (or CLI) running the job: host:pid:thread
    lease_until bigint  -- its claim runs out then unless a batch renews it; past it another worker resumes the job
);
