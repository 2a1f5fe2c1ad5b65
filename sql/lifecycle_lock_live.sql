-- Lock the live sessions about to be archived (those the user owns when user_id is given), in id order so two
-- archives of overlapping sets queue instead of deadlocking; a hold placed meanwhile waits for this transaction.
SELECT s.session_id FROM {sessions} s
WHERE s.session_id = ANY(%(session_ids)s::text[])
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
ORDER BY s.session_id
FOR UPDATE
