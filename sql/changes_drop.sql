-- The rest of the change log (`migrate --drop-changes`), after changes_drop_triggers.sql in the same transaction:
-- no writer can reach a function or table that is gone.
DROP FUNCTION IF EXISTS {fn_sessions}();
DROP FUNCTION IF EXISTS {fn_runs}();
DROP TABLE IF EXISTS {changes};
DROP TABLE IF EXISTS {changes_state};
DROP FUNCTION IF EXISTS {fn_immutable}();
