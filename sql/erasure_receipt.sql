-- One erasure job as its receipt shows it.
SELECT receipt_id, user_hash, state, counts, error, started_at, finished_at FROM {erasures}
WHERE receipt_id = %(receipt_id)s
