-- The change log's tables (`agno-session migrate --changes`; agno's tables are never altered): one immutable row per
-- change of a session or run, appended by the triggers in the writer's own transaction. Its key is the writer's
-- transaction id and the order inside the table; `at` is the write's time in epoch milliseconds. The one-row state
-- holds the position before which rows are gone (created at the head, raised by pruning): a cursor below it is 410.
-- UPDATE of a change is refused (rows are immutable); pruning deletes the oldest ones.
CREATE TABLE IF NOT EXISTS {changes} (
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq bigint GENERATED ALWAYS AS IDENTITY,
    at bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
    op text NOT NULL,
    session_id character varying NOT NULL,
    run_id character varying,
    user_id character varying,
    session_type character varying,
    component_id character varying,
    changed text[],
    CONSTRAINT {changes_key} PRIMARY KEY (txid, seq)
);
CREATE TABLE IF NOT EXISTS {changes_state} (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_txid xid8 NOT NULL,
    pruned_seq bigint NOT NULL
);
INSERT INTO {changes_state} (pruned_txid, pruned_seq) VALUES (pg_snapshot_xmin(pg_current_snapshot()), 0)
ON CONFLICT (singleton) DO NOTHING;
CREATE OR REPLACE FUNCTION {fn_immutable}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'change log rows are immutable' USING ERRCODE = 'restrict_violation';
END
$$;
DROP TRIGGER IF EXISTS {tg_immutable} ON {changes};
CREATE TRIGGER {tg_immutable} BEFORE UPDATE ON {changes} FOR EACH STATEMENT EXECUTE FUNCTION {fn_immutable}();
