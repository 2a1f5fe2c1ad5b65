-- Trim the locked sessions to their last %(keep_last)s runs in agno's read order (run_index, created_at, run_id;
-- a NULL run_index sorts last): counted from the end, every run past the kept ones is deleted. Their sessions' rows
-- stay as they are (a trim is not activity). Returns how many runs went.
WITH ranked AS (
    SELECT r.run_id,
           row_number() OVER (PARTITION BY r.session_id
                              ORDER BY r.run_index DESC NULLS FIRST, r.created_at DESC, r.run_id DESC) AS from_end
    FROM {runs} r
    WHERE r.session_id = ANY(%(session_ids)s::text[])
), gone AS (
    DELETE FROM {runs} r USING ranked k
    WHERE r.run_id = k.run_id AND k.from_end > %(keep_last)s
    RETURNING 1
)
SELECT count(*) AS runs FROM gone
