-- Place or replace the legal hold on a session id; the hold as stored.
INSERT INTO {holds} (session_id, reason, until, held_by, held_at)
VALUES (%(session_id)s, %(reason)s, %(until)s, %(held_by)s, %(now)s)
ON CONFLICT (session_id) DO UPDATE
SET reason = EXCLUDED.reason, until = EXCLUDED.until, held_by = EXCLUDED.held_by, held_at = EXCLUDED.held_at
RETURNING session_id, reason, until, held_by, held_at
