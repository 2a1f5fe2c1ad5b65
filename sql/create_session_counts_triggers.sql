-- The four triggers on agno's sessions table, replaced together (migrate runs this only when a definition from
-- the catalog differs, under its lock timeout, and recounts in the same transaction). The strongest lock this
-- transaction needs is taken first, so it never upgrades a lock while writers queue behind it (a deadlock).
-- ENABLE ALWAYS keeps them firing under session_replication_role = replica (logical replication apply,
-- pg_restore's data phase).
LOCK TABLE {sessions} IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER IF EXISTS {tg_insert} ON {sessions};
DROP TRIGGER IF EXISTS {tg_delete} ON {sessions};
DROP TRIGGER IF EXISTS {tg_retype} ON {sessions};
DROP TRIGGER IF EXISTS {tg_truncate} ON {sessions};
CREATE TRIGGER {tg_insert} AFTER INSERT ON {sessions}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn_change}();
CREATE TRIGGER {tg_delete} AFTER DELETE ON {sessions}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn_change}();
-- Only a real change of type costs a row (the WHEN clause is checked without calling the function).
CREATE TRIGGER {tg_retype} AFTER UPDATE OF session_type ON {sessions}
    FOR EACH ROW WHEN (OLD.session_type IS DISTINCT FROM NEW.session_type) EXECUTE FUNCTION {fn_change}();
CREATE TRIGGER {tg_truncate} AFTER TRUNCATE ON {sessions} FOR EACH STATEMENT EXECUTE FUNCTION {fn_change}();
ALTER TABLE {sessions} ENABLE ALWAYS TRIGGER {tg_insert};
ALTER TABLE {sessions} ENABLE ALWAYS TRIGGER {tg_delete};
ALTER TABLE {sessions} ENABLE ALWAYS TRIGGER {tg_retype};
ALTER TABLE {sessions} ENABLE ALWAYS TRIGGER {tg_truncate};
