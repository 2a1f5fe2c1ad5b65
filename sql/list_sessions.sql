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
    {name_run}
    {extra_joins}
) ON true
ORDER BY {order_by}
