-- Add one batch's rows to the job's counts and renew its lease, in the batch's transaction: the counts are exactly
-- what was committed. No row: another worker took the job over (this one's lease ran out), and the batch rolls back.
UPDATE {erasures}
SET counts = jsonb_set(COALESCE(counts, '{{}}'::jsonb), ARRAY[%(step)s::text],
                       to_jsonb(COALESCE((counts ->> %(step)s::text)::bigint, 0) + %(rows)s)),
    lease_until = %(lease_until)s
WHERE receipt_id = %(receipt_id)s AND claimed_by = %(worker)s AND state = 'running'
RETURNING receipt_id
