-- The change log's triggers on agno's two tables (after changes_drop_triggers.sql, which took the locks): AFTER,
-- once per statement, with transition tables (PostgreSQL allows those on single-event triggers only: three per
-- table). ENABLE ALWAYS keeps them firing under session_replication_role = replica.
CREATE TRIGGER {tg_insert} AFTER INSERT ON {sessions} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {fn_sessions}();
CREATE TRIGGER {tg_update} AFTER UPDATE ON {sessions} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {fn_sessions}();
CREATE TRIGGER {tg_delete} AFTER DELETE ON {sessions} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {fn_sessions}();
CREATE TRIGGER {tg_insert} AFTER INSERT ON {runs} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {fn_runs}();
CREATE TRIGGER {tg_update} AFTER UPDATE ON {runs} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {fn_runs}();
CREATE TRIGGER {tg_delete} AFTER DELETE ON {runs} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {fn_runs}();
ALTER TABLE {sessions} ENABLE ALWAYS TRIGGER {tg_insert}, ENABLE ALWAYS TRIGGER {tg_update},
    ENABLE ALWAYS TRIGGER {tg_delete};
ALTER TABLE {runs} ENABLE ALWAYS TRIGGER {tg_insert}, ENABLE ALWAYS TRIGGER {tg_update},
    ENABLE ALWAYS TRIGGER {tg_delete};
