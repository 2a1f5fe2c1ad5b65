-- One session with all of its runs in agno's read order, and the versions its entity tag derives from
-- (storage/versions.py), in a single round trip and one pass over the runs; `lock` is FOR UPDATE when the caller is
-- about to write the row back (PATCH), empty otherwise. The xmins stay xid (their text form costs more to make).
SELECT s.*, s.xmin AS row_version, rv.run_list, rv.run_xmins
FROM {sessions} s
CROSS JOIN LATERAL (
    SELECT COALESCE(jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id), '[]'::jsonb) AS run_list,
           array_agg(r.xmin) AS run_xmins
    FROM {runs} r WHERE r.session_id = s.session_id
) rv
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
{lock}
