-- PATCH /sessions/<id>/state, step 1: the session row locked for the merge (FOR UPDATE: concurrent merges of the
-- same session queue here, each reading what the one before it wrote), with its runs for the answer.
SELECT s.*,
       COALESCE((SELECT jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id)
                 FROM {runs} r WHERE r.session_id = s.session_id), '[]'::jsonb) AS run_list
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
FOR UPDATE OF s
