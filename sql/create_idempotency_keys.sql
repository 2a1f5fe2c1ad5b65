-- Idempotency-Key answers (extension `idempotency-keys`): one row per caller and key, inserted in the transaction
-- of the write it guards and holding that request's answer when it commits, so a key is kept if and only if its
-- write committed. A second request with the key waits on the primary key until the first one's transaction ends.
-- Rows past expires_at are deleted a few at a time by the requests that claim new keys (idempotency_claim.sql).
CREATE TABLE IF NOT EXISTS {keys} (
    caller text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint text NOT NULL,
    status smallint,
    headers jsonb,
    body bytea,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (caller, idempotency_key)
);
CREATE INDEX IF NOT EXISTS {expiry} ON {keys} (expires_at);
