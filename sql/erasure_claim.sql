-- Claim the oldest erasure job no live worker holds: a pending one, or a running one whose lease ran out (its
-- worker died). SKIP LOCKED keeps workers that look at the same time apart; the lease keeps others off it after.
UPDATE {erasures} e
SET state = 'running', claimed_by = %(worker)s, lease_until = %(lease_until)s,
    started_at = COALESCE(e.started_at, %(now)s)
WHERE e.receipt_id = (SELECT j.receipt_id FROM {erasures} j
                      WHERE j.state IN ('pending', 'running') AND (j.lease_until IS NULL OR j.lease_until < %(now)s)
                      ORDER BY j.created_at, j.receipt_id
                      LIMIT 1
                      FOR UPDATE SKIP LOCKED)
RETURNING e.*
