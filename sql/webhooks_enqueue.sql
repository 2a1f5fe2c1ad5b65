-- One event read from the feed, waiting for delivery (a second read of it, after a crash between the read and the
-- position's update, adds nothing).
INSERT INTO {queue} (subscription, message_id, session_id, body, enqueued_at, next_attempt_at)
VALUES (%(subscription)s, %(message_id)s, %(session_id)s, %(body)s, to_timestamp(%(now)s), to_timestamp(%(now)s))
ON CONFLICT (subscription, message_id) DO NOTHING
