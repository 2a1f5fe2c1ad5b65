-- One session row without its runs (the history window reads those in pages, storage/history.py), and the versions
-- its entity tag derives from: the runs' tuple headers and ids, never their run_data.
SELECT s.*, s.xmin::text AS row_version,
       (SELECT {runs_version} FROM {runs} r WHERE r.session_id = s.session_id) AS runs_version
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
