-- The claimed key's answer, written in the transaction that claimed it (and that holds its write).
UPDATE {keys} SET status = %(status)s, headers = %(headers)s, body = %(body)s
WHERE caller = %(caller)s AND idempotency_key = %(key)s;
