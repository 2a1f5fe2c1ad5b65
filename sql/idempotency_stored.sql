-- The answer kept for a key another request claimed and committed.
SELECT fingerprint, status, headers, body FROM {keys} WHERE caller = %(caller)s AND idempotency_key = %(key)s;
