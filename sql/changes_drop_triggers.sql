-- The change log's six triggers on agno's two tables, dropped under migrate's lock timeout before they are created
-- again (changes_create_triggers.sql) or the log is removed (changes_drop.sql), in the same transaction. The locks
-- are taken as search_create_triggers.sql takes them: sessions, then runs within half of deadlock_timeout, so no
-- writer is ever a deadlock's victim (migrate retries instead).
LOCK TABLE {sessions} IN SHARE ROW EXCLUSIVE MODE;
SELECT set_config('lock_timeout', (extract(epoch FROM current_setting('deadlock_timeout')::interval) * 500)::int::text,
                  true);
LOCK TABLE {runs} IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER IF EXISTS {tg_insert} ON {sessions};
DROP TRIGGER IF EXISTS {tg_update} ON {sessions};
DROP TRIGGER IF EXISTS {tg_delete} ON {sessions};
DROP TRIGGER IF EXISTS {tg_insert} ON {runs};
DROP TRIGGER IF EXISTS {tg_update} ON {runs};
DROP TRIGGER IF EXISTS {tg_delete} ON {runs};
