-- One session row without its runs (the history window reads those in pages, storage/history.py), and the versions
-- its entity tag derives from: the runs' tuple headers, never their run_data.
SELECT s.*, s.xmin AS row_version,
       {run_xmins} AS run_xmins
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
