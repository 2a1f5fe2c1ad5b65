-- The next batch of sessions a retention policy matches, in session id order after the last batch's last id
-- (`after`), each with whether an active legal hold keeps it. Read without locks: the batch's own transaction locks
-- and checks them again (retention_lock.sql).
SELECT s.session_id, {held} AS held
FROM {sessions} s
WHERE {matches}
  {after}
ORDER BY s.session_id
LIMIT %(batch)s
