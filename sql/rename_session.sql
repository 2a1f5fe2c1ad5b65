-- Set session_data.session_name like agno does (SQL NULL session_data stays NULL; updated_at untouched);
-- JSON null session_data, where agno fails, becomes an object holding the name.
WITH renamed AS (
    UPDATE {sessions} s
    SET session_data = CASE jsonb_typeof(s.session_data)
                           WHEN 'object' THEN jsonb_set(s.session_data, ARRAY['session_name'], to_jsonb(%(name)s::text))
                           WHEN 'null' THEN jsonb_build_object('session_name', %(name)s::text)
                           ELSE s.session_data
                       END
    WHERE s.session_id = %(session_id)s
      AND (%(session_type)s::text IS NULL OR s.session_type = %(session_type)s)
      AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
    RETURNING s.*, s.xmin AS row_version
)
SELECT s.*, rv.run_list, rv.run_xmins
FROM renamed s
CROSS JOIN LATERAL (
    SELECT COALESCE(jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id), '[]'::jsonb) AS run_list,
           array_agg(r.xmin) AS run_xmins
    FROM {runs} r WHERE r.session_id = s.session_id
) rv
