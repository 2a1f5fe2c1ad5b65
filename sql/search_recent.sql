-- A broad search's newest matches (more than the cap of ranked matches: search_terms.MAX_RANKED): the index's rows
-- read newest first through `<sessions>_svc_search_recent` (created_at DESC, then session, run, position), each
-- checked against the query, until a page is found; and the runs queued for the drain read themselves. Only the
-- page's rows are ranked (their rank is reported, not ordered by).
recent AS (
    SELECT * FROM (
        {indexed_matches}
          {after_recent_h}
        ORDER BY h.created_at DESC, h.session_id, h.run_id, h.position
        LIMIT %(limit)s
    ) indexed
    UNION ALL
    SELECT * FROM ({queued_matches}) queued
    {after_recent}
)
