-- The search index's triggers on agno's two tables, replaced together under migrate's lock timeout. The strongest
-- lock this transaction needs is taken first on both tables, sessions before runs (the order agno's foreign key
-- checks go), so it never upgrades a lock while writers queue behind it. Holding the first, it waits for the second
-- half of deadlock_timeout at most: a writer holding runs and then writing its session waits for it, and would be
-- the one a deadlock check aborts after deadlock_timeout; this gives way first (migrate retries the transaction after
-- a backoff), so no writer ever fails because of it. Row-level and AFTER: they see the row as
-- written, in the writer's transaction. ENABLE ALWAYS keeps them firing under session_replication_role = replica.
LOCK TABLE {sessions} IN SHARE ROW EXCLUSIVE MODE;
SELECT set_config('lock_timeout', (extract(epoch FROM current_setting('deadlock_timeout')::interval) * 500)::int::text,
                  true);
LOCK TABLE {runs} IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER IF EXISTS {tg_runs} ON {runs};
DROP TRIGGER IF EXISTS {tg_sessions} ON {sessions};
CREATE TRIGGER {tg_runs} AFTER INSERT OR UPDATE OR DELETE ON {runs} FOR EACH ROW EXECUTE FUNCTION {fn_runs}();
CREATE TRIGGER {tg_sessions} AFTER INSERT OR UPDATE OR DELETE ON {sessions}
    FOR EACH ROW EXECUTE FUNCTION {fn_sessions}();
ALTER TABLE {runs} ENABLE ALWAYS TRIGGER {tg_runs};
ALTER TABLE {sessions} ENABLE ALWAYS TRIGGER {tg_sessions};
