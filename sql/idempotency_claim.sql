-- Claim a key in the request's transaction: first delete a few expired keys (none another request holds) and this
-- one if it expired, then insert it. A request holding the key uncommitted makes the insert wait, for at most
-- %(lock_ms)s ms (lock_timeout; 409 after that); once it commits the insert does nothing (the stored answer is
-- replayed), once it rolls back this one claims the key.
SET LOCAL lock_timeout = %(lock_ms)s;
DELETE FROM {keys} WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM {keys} WHERE expires_at < now() ORDER BY expires_at LIMIT %(sweep)s FOR UPDATE SKIP LOCKED));
DELETE FROM {keys} WHERE caller = %(caller)s AND idempotency_key = %(key)s AND expires_at < now();
INSERT INTO {keys} (caller, idempotency_key, fingerprint, expires_at)
VALUES (%(caller)s, %(key)s, %(fingerprint)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (caller, idempotency_key) DO NOTHING
RETURNING true AS claimed;
