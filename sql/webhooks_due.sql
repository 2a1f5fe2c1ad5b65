-- The events ready for an attempt: due, and the earliest waiting event of their session (per-session order: a
-- later event waits until the one before it was delivered or dead-lettered).
SELECT q.id, q.subscription, q.message_id, q.session_id, q.body, q.attempts,
       extract(epoch FROM q.first_attempt_at)::float8 AS first_attempt_at
FROM {queue} q
WHERE q.subscription = ANY(%(subscriptions)s)
  AND q.next_attempt_at <= to_timestamp(%(now)s)
  AND NOT EXISTS (SELECT 1 FROM {queue} e
                  WHERE e.subscription = q.subscription AND e.session_id = q.session_id AND e.id < q.id)
ORDER BY q.id
LIMIT %(limit)s
