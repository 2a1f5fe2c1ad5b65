-- Exact session totals per type without scanning the sessions table: every statement that inserts or deletes
-- sessions (this service's, AgentOS's, anyone's) appends one delta row per type in its own transaction, so a
-- snapshot that sees a session row sees its delta too, and sum(delta) = count(*) in every snapshot. Delta rows
-- are appended, never updated: concurrent writers never wait on each other. ENABLE ALWAYS keeps the triggers
-- firing under session_replication_role = replica (logical replication apply, pg_restore's data phase).
-- Without the counts table (dropped by hand) the triggers do nothing, so no writer ever fails because of them.
CREATE TABLE IF NOT EXISTS {counts} (session_type text, delta bigint NOT NULL);

-- One function for the four triggers: statement-level INSERT and DELETE read their transition tables, the
-- row-level UPDATE trigger sees OLD and NEW, TRUNCATE empties the counts with the table.
CREATE OR REPLACE FUNCTION {fn_change}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass({counts_name}) IS NULL THEN
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO {counts} (session_type, delta) SELECT session_type, count(*) FROM new_rows GROUP BY session_type;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {counts} (session_type, delta) SELECT session_type, -count(*) FROM old_rows GROUP BY session_type;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO {counts} (session_type, delta) VALUES (OLD.session_type, -1), (NEW.session_type, 1);
    ELSE
        DELETE FROM {counts};
    END IF;
    RETURN NULL;
END $$;

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

-- (Re)count from the table itself, with writers held off so no delta is lost or counted twice.
LOCK TABLE {sessions} IN SHARE MODE;
DELETE FROM {counts};
INSERT INTO {counts} (session_type, delta) SELECT session_type, count(*) FROM {sessions} GROUP BY session_type;
