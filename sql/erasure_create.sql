-- A new erasure job. The CLI claims it at once (%(worker)s and a lease); a request leaves it pending for the
-- service's workers (erasure_claim.sql). user_ref holds the raw user id only until the job ends.
INSERT INTO {erasures} (receipt_id, user_hash, state, override_holds, requested_by, user_ref, counts, created_at,
                        started_at, claimed_by, lease_until)
VALUES (%(receipt_id)s, %(user_hash)s, CASE WHEN %(worker)s::text IS NULL THEN 'pending' ELSE 'running' END,
        %(override_holds)s, %(requested_by)s, %(user_id)s, %(counts)s, %(now)s,
        CASE WHEN %(worker)s::text IS NULL THEN NULL ELSE %(now)s END, %(worker)s, %(lease_until)s)
RETURNING *
