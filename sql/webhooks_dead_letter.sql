-- The last failed attempt of the retry window: the event leaves the queue (its session's next event goes on) for
-- the dead letters.
WITH gone AS (DELETE FROM {queue} WHERE id = %(id)s RETURNING *)
INSERT INTO {dead} (subscription, message_id, session_id, body, attempts, first_attempt_at, dead_at, last_error)
SELECT subscription, message_id, session_id, body, attempts + 1, coalesce(first_attempt_at, to_timestamp(%(now)s)),
       to_timestamp(%(now)s), %(error)s
FROM gone
