-- The session to update, locked until the transaction ends, with its runs for the response.
SELECT s.*,
       COALESCE((SELECT jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id)
                 FROM {runs} r WHERE r.session_id = s.session_id), '[]'::jsonb) AS run_list
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
FOR UPDATE OF s
