-- Everything `migrate --search` created, removed in one transaction under migrate's lock timeout: the triggers
-- first (sessions before runs, as they were created), so no writer reaches a function or table that is gone; runs
-- within half of deadlock_timeout, as search_create_triggers.sql takes it, so no writer is a deadlock's victim.
LOCK TABLE {sessions} IN SHARE ROW EXCLUSIVE MODE;
SELECT set_config('lock_timeout', (extract(epoch FROM current_setting('deadlock_timeout')::interval) * 500)::int::text,
                  true);
LOCK TABLE {runs} IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER IF EXISTS {tg_sessions} ON {sessions};
DROP TRIGGER IF EXISTS {tg_runs} ON {runs};
DROP FUNCTION IF EXISTS {fn_sessions}();
DROP FUNCTION IF EXISTS {fn_runs}();
DROP FUNCTION IF EXISTS {fn_extract}(jsonb, bigint, regconfig);
DROP TABLE IF EXISTS {pending};
DROP TABLE IF EXISTS {search};
DROP TABLE IF EXISTS {state};
