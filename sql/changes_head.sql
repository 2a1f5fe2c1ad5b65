-- The head of the change log: the oldest transaction still running (every change of an older one is final), and
-- the position rows before which were pruned.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon, s.pruned_txid::text AS pruned_txid, s.pruned_seq
FROM {changes_state} s
