-- One session, whether it has any runs, and the one run asked for: no other run payloads leave the server.
SELECT s.*,
       EXISTS (SELECT 1 FROM {runs} r WHERE r.session_id = s.session_id) AS has_runs,
       (SELECT r.run_data FROM {runs} r
        WHERE r.session_id = s.session_id AND r.run_data ->> 'run_id' = %(run_id)s
        ORDER BY r.run_index, r.created_at, r.run_id LIMIT 1) AS run
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
