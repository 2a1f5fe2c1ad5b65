-- End a job: done, or failed with its error; the raw user id is dropped in the same statement.
UPDATE {erasures}
SET state = %(state)s, error = %(error)s, finished_at = %(now)s, user_ref = NULL, claimed_by = NULL,
    lease_until = NULL
WHERE receipt_id = %(receipt_id)s AND claimed_by = %(worker)s AND state = 'running'
RETURNING *
