-- One page of sessions plus the total under the same filters, from one snapshot in one round trip. The WHERE
-- holds only the filters given (storage/sessions.list_filter: simpler to plan and to run than "x IS NULL OR").
-- The total is `count(*)` over `filtered`, or, for a list filtered by type alone, the sum of the trigger-kept
-- counts (storage/counts.py), which is the same number in every snapshot.
-- For a session without a stored name, `name_run` is the one run its name derives from, reduced to the
-- keys the derivation reads (input, and the first user message with truthy content). Truthiness is
-- Python's: null, "", 0, false and empty arrays or objects are falsy.
-- A cursor page starts after its keyset position (storage/list_keyset.py); the keys `include=` adds are extra
-- columns and lateral joins (storage/list_extras.py), computed for the page's rows only.
WITH filtered AS NOT MATERIALIZED (
    SELECT s.*
    FROM {sessions} s
    {where}
),
page AS (
    SELECT * FROM filtered {after} ORDER BY {order_by} LIMIT %(limit)s OFFSET %(offset)s
)
SELECT t.total_count, t.delta_rows, p.*, n.name_run{extra_columns}
FROM ({total}) t
LEFT JOIN (
    page p
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
    {extra_joins}
) ON true
ORDER BY {order_by}
