-- The run a session without a stored name is named after (`n.name_run`), for the session rows `p` of a page: a
-- lateral join composed into list_sessions.sql and search_scan.sql, so the list and the search hits name sessions
-- alike. It is reduced to the keys the derivation reads (input, and the first user message with truthy content);
-- truthiness is Python's: null, "", 0, false and empty arrays or objects are falsy.
LEFT JOIN LATERAL (
    SELECT CASE WHEN p.session_type = 'workflow'
                THEN jsonb_build_object('input', r.run_data -> 'input')
                ELSE jsonb_build_object('input', r.run_data -> 'input',
                                        'messages', COALESCE(u.first_user, '[]'::jsonb))
           END AS name_run
    FROM {runs} r
    LEFT JOIN LATERAL (
        SELECT jsonb_build_array(e.m) AS first_user
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.run_data -> 'messages') = 'array'
                                       THEN r.run_data -> 'messages' ELSE '[]'::jsonb END)
             WITH ORDINALITY AS e(m, i)
        WHERE e.m ->> 'role' = 'user'
          AND e.m -> 'content' NOT IN ('null', '""', '0', 'false', '[]', '{{}}')
        ORDER BY e.i
        LIMIT 1
    ) u ON p.session_type IS DISTINCT FROM 'workflow'
    WHERE r.session_id = p.session_id
      AND p.session_data ->> 'session_name' IS NULL
      AND (p.session_type = 'workflow'
           OR ((p.session_type IS DISTINCT FROM 'team'
                OR COALESCE(r.run_data -> 'agent_id', 'null') IN ('null', '""', '0', 'false', '[]', '{{}}'))
               AND (u.first_user IS NOT NULL OR COALESCE(r.run_data -> 'input', 'null') <> 'null')))
    ORDER BY r.run_index, r.created_at, r.run_id
    LIMIT 1
) n ON true
