-- One session with all of its runs in agno's read order, and the versions its entity tag derives from
-- (storage/versions.py), in a single round trip; `lock` is FOR UPDATE when the caller is about to write the row
-- back (PATCH), empty otherwise.
SELECT s.*, s.xmin::text AS row_version,
       COALESCE((SELECT jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id)
                 FROM {runs} r WHERE r.session_id = s.session_id), '[]'::jsonb) AS run_list,
       {run_xmins} AS run_xmins
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
{lock}
