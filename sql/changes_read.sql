-- One page of the change log after a position, in one statement (one snapshot): only changes of transactions older
-- than the snapshot's xmin (each of them has committed or aborted: no later commit can add a row among them), in
-- (txid, seq) order; at most %(scan)s of them are looked at, and of those the first %(limit)s that match the
-- filters are returned. The first columns (on every row, and on a row of their own when none matched) say how far
-- the scan went: the horizon, how many rows it looked at and the last one's key; and where the log begins (the
-- position rows before which were pruned), so a cursor older than that is refused without a statement of its own.
WITH horizon AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
), scanned AS MATERIALIZED (
    SELECT c.* FROM {changes} c
    WHERE (c.txid, c.seq) > (%(txid)s::text::xid8, %(seq)s::bigint) AND c.txid < (SELECT xmin FROM horizon)
    ORDER BY c.txid, c.seq
    LIMIT %(scan)s
), matched AS (
    SELECT * FROM scanned c
    WHERE (%(ops)s::text[] IS NULL OR c.op = ANY(%(ops)s::text[]))
      AND (%(session_type)s::text IS NULL OR c.session_type = %(session_type)s)
      AND (%(component_id)s::text IS NULL OR c.component_id = %(component_id)s)
      AND (%(user_id)s::text IS NULL OR c.user_id = %(user_id)s)
      AND (%(owner)s::text IS NULL OR c.user_id = %(owner)s)
      AND (%(session_id)s::text IS NULL OR c.session_id = %(session_id)s)
    ORDER BY c.txid, c.seq
    LIMIT %(limit)s
), summary AS (
    SELECT (SELECT xmin FROM horizon)::text AS horizon, count(*) AS scanned,
           (SELECT s.txid::text FROM scanned s ORDER BY s.txid DESC, s.seq DESC LIMIT 1) AS last_txid,
           (SELECT s.seq FROM scanned s ORDER BY s.txid DESC, s.seq DESC LIMIT 1) AS last_seq,
           (SELECT st.pruned_txid::text FROM {changes_state} st) AS pruned_txid,
           (SELECT st.pruned_seq FROM {changes_state} st) AS pruned_seq
    FROM scanned
)
SELECT s.horizon, s.scanned, s.last_txid, s.last_seq, s.pruned_txid, s.pruned_seq, m.txid::text AS txid, m.seq, m.at, m.op, m.session_id,
       m.run_id, m.user_id, m.session_type, m.component_id, m.changed
FROM summary s LEFT JOIN matched m ON true
ORDER BY m.txid, m.seq
