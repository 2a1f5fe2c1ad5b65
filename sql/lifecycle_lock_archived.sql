-- Lock archived sessions (those the user owns when user_id is given), in id order, before restoring or purging them.
SELECT s.session_id FROM {archived_sessions} s
WHERE s.session_id = ANY(%(session_ids)s::text[])
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
ORDER BY s.session_id
FOR UPDATE
