-- Dead letters back in the queue, due at once and with a fresh retry window; behind whatever their session has
-- waiting (they are at the queue's end). `ids` NULL: every dead letter (of the subscription, if one is given).
WITH back AS (
    DELETE FROM {dead}
    WHERE (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
      AND (%(subscription)s::text IS NULL OR subscription = %(subscription)s)
    RETURNING *
)
INSERT INTO {queue} (subscription, message_id, session_id, body, enqueued_at, next_attempt_at)
SELECT subscription, message_id, session_id, body, to_timestamp(%(now)s), to_timestamp(%(now)s) FROM back ORDER BY id
ON CONFLICT (subscription, message_id) DO NOTHING
RETURNING id
