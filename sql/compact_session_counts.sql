-- Fold the delta rows into one per type (MVCC: every snapshot still sums to the same totals). One compaction at
-- a time per table; a second caller skips instead of waiting.
WITH go AS (SELECT pg_try_advisory_xact_lock(hashtext(%(counts)s)) AS locked),
gone AS (DELETE FROM {counts} WHERE (SELECT locked FROM go) RETURNING session_type, delta)
INSERT INTO {counts} (session_type, delta)
SELECT session_type, sum(delta) FROM gone GROUP BY session_type HAVING sum(delta) <> 0
