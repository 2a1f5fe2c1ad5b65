-- One page of message search hits from the search index (index mode): the GIN index finds the matching messages
-- (but not those of runs queued for the drain: their rows may be of an older version), the queued runs are read
-- themselves with the index's own extraction (so a run is found from its writer's commit on), the filters and the
-- cursor narrow them, and the hits fragment (search_terms.HITS: by relevance, newest first, or the first page's choice
-- between them by how many messages match) orders them, then (session_id, run_id, position),
-- exactly as search_scan.sql does by scanning, and the rows answered are the same: only the page's rows read their
-- session, their run's text for the snippet (the index's extraction function, so the text is the indexed one) and
-- the run their session's name derives from.
-- The query is not materialized: its tsquery, a constant, is folded into the plan, so PostgreSQL estimates each
-- word's matches from the GIN index's statistics (a rare word plans as the cheap query it is). JIT compilation is
-- off for this statement (the no_jit fragment: SET LOCAL in the same string, one implicit transaction): it costs 30-40 ms
-- per query, more than a search of up to some 10,000 matches takes altogether.
{no_jit}WITH query AS NOT MATERIALIZED (
    SELECT {tsquery} AS q
),
found AS NOT MATERIALIZED (
    {indexed_matches}
    UNION ALL
    {queued_matches}
),
{hits},
page AS (
    SELECT h.*, s.session_type, s.agent_id, s.team_id, s.workflow_id, s.user_id, s.session_data, s.workflow_data,
           (SELECT x.body FROM {fn_extract}(r.run_data, r.created_at, %(config)s::regconfig) x
            WHERE x.message_position = h.position) AS body
    FROM hits h
    JOIN {sessions} s ON s.session_id = h.session_id
    LEFT JOIN {runs} r ON r.run_id = h.run_id
)
SELECT p.session_id, p.session_type, p.agent_id, p.team_id, p.workflow_id, p.user_id, p.session_data,
       p.workflow_data, p.run_id, p.position, p.message_id, p.role, p.created_at, p.rank, p.ordered_by,
       ts_headline(%(config)s::regconfig, translate(COALESCE(p.body, ''), E'\x01\x02', '  '), query.q, {headline})
           AS snippet,
       n.name_run
FROM page p
CROSS JOIN query
{name_run}
ORDER BY CASE p.ordered_by WHEN 'recent' THEN 0 ELSE p.rank END DESC, p.created_at DESC, p.session_id, p.run_id,
         p.position
