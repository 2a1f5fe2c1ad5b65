-- The next batch of sessions after the backfill's position, locked against updates and deletes until the batch
-- commits (FOR SHARE: a trigger cannot rewrite their rows meanwhile). NOWAIT: the backfill never waits for a
-- writer, so it is never part of a deadlock; a locked row fails the batch, which is retried.
SELECT session_id FROM {sessions}
WHERE %(after)s::varchar IS NULL OR session_id > %(after)s
ORDER BY session_id
LIMIT %(limit)s
FOR SHARE NOWAIT
