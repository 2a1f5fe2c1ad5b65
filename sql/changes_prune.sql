-- Retention: the oldest changes (at most %(batch)s, all of transactions every reader has passed) written before
-- %(cutoff)s (epoch milliseconds) are deleted, only as a prefix of the log's order (a younger change stops it), and
-- the state remembers the last one gone: a cursor below it answers 410. The state row's lock keeps pruners apart
-- (SKIP LOCKED: a second one does nothing).
WITH state AS (
    SELECT * FROM {changes_state} FOR UPDATE SKIP LOCKED
), head AS (
    SELECT c.txid, c.seq, c.at, row_number() OVER (ORDER BY c.txid, c.seq) AS n
    FROM {changes} c
    WHERE EXISTS (SELECT 1 FROM state) AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY c.txid, c.seq
    LIMIT %(batch)s
), stop AS (
    SELECT coalesce(min(n) FILTER (WHERE at >= %(cutoff)s), max(n) + 1) AS n FROM head
), gone AS (
    DELETE FROM {changes} c USING head h, stop
    WHERE h.n < stop.n AND c.txid = h.txid AND c.seq = h.seq
    RETURNING c.txid, c.seq
), last AS (
    SELECT txid, seq FROM gone ORDER BY txid DESC, seq DESC LIMIT 1
), moved AS (
    UPDATE {changes_state} s SET pruned_txid = l.txid, pruned_seq = l.seq
    FROM last l WHERE (l.txid, l.seq) > (s.pruned_txid, s.pruned_seq)
    RETURNING 1
)
SELECT count(*) AS pruned FROM gone
