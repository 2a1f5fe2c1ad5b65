-- Where a message of a session's chat_history is, by its reference (the deep link of a search hit): the message
-- whose stored id is %(reference)s, else the one at %(position)s of run %(run_id)s (a `<run_id>#<index>`
-- reference); only messages chat_history shows (search_scan_messages.sql) can be found. Repeated ids: agno's first.
SELECT r.run_index, r.created_at, r.run_id, m.position
FROM {runs} r
CROSS JOIN LATERAL ({messages}) m
WHERE r.session_id = %(session_id)s
  AND (m.message_id = %(reference)s OR (r.run_id = %(run_id)s AND m.position = %(position)s))
ORDER BY m.message_id IS NOT DISTINCT FROM %(reference)s DESC, r.run_index ASC NULLS LAST, r.created_at, r.run_id,
         m.position
LIMIT 1
