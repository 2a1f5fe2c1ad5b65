-- One page of a session's runs along agno's run order (run_index, NULLs last; created_at; run_id), newest or
-- oldest first from a run's key, so a reader fetches only the runs it shows. {position} and {order} come from
-- storage/history.py: their leading run_index bound lets agno's (session_id, run_index) index start the scan at
-- the key instead of at either end.
SELECT r.run_index, r.created_at, r.run_id, r.run_data
FROM {runs} r
WHERE r.session_id = %(session_id)s
  {position}
ORDER BY {order}
LIMIT %(limit)s
