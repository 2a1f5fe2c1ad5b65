SELECT id, subscription, message_id, session_id, body, attempts, first_attempt_at, dead_at, last_error
FROM {dead}
WHERE (%(subscription)s::text IS NULL OR subscription = %(subscription)s)
ORDER BY id
LIMIT %(limit)s
