-- One session row without its runs (the history window reads those in pages, storage/history.py).
SELECT s.*
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
