-- Webhook delivery (`agno-session migrate --webhooks`, read by `agno-session deliver`): per subscription, the change
-- feed position it has read up to; the events read but not yet delivered, in feed order (`id`), each session's
-- earliest one delivered first; and the dead letters: events that failed for the whole retry window, kept until an
-- operator replays (`agno-session webhooks dead-letters --replay`) or deletes them. Times are the deliverer's clock.
CREATE TABLE IF NOT EXISTS {cursors} (
    subscription text PRIMARY KEY,
    position text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {queue} (
    id bigserial PRIMARY KEY,
    subscription text NOT NULL,
    message_id text NOT NULL,
    session_id text NOT NULL,
    body text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL,
    first_attempt_at timestamptz,
    next_attempt_at timestamptz NOT NULL,
    last_error text,
    UNIQUE (subscription, message_id)
);
CREATE INDEX IF NOT EXISTS {queue_order} ON {queue} (subscription, session_id, id);
CREATE INDEX IF NOT EXISTS {queue_due} ON {queue} (next_attempt_at);
CREATE TABLE IF NOT EXISTS {dead} (
    id bigserial PRIMARY KEY,
    subscription text NOT NULL,
    message_id text NOT NULL,
    session_id text NOT NULL,
    body text NOT NULL,
    attempts integer NOT NULL,
    first_attempt_at timestamptz NOT NULL,
    dead_at timestamptz NOT NULL,
    last_error text
);
