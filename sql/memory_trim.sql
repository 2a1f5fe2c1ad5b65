-- Bound the session to `bound` one-message runs: the newest system runs (up to the bound) and, in the room
-- left, the newest others; everything older goes. Newest = last in agno's read order (run_index, created_at, run_id).
WITH r AS (
    SELECT run_id, run_index, created_at,
           COALESCE(run_data -> 'messages' -> 0 ->> 'role' = 'system', false) AS sys
    FROM {runs}
    WHERE session_id = %(session_id)s
), ranked AS (
    SELECT run_id, sys,
           row_number() OVER (PARTITION BY sys ORDER BY run_index DESC, created_at DESC, run_id DESC) AS newest
    FROM r
), kept AS (
    SELECT LEAST(count(*) FILTER (WHERE sys), %(bound)s) AS system_kept FROM r
)
DELETE FROM {runs} d
USING ranked k, kept
WHERE d.run_id = k.run_id
  AND k.newest > CASE WHEN k.sys THEN kept.system_kept ELSE %(bound)s - kept.system_kept END
