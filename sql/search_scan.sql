-- One page of message search hits by scanning the runs (scan mode: no complete search index): every searchable
-- message of the sessions the filters keep (search_scan_messages.sql), matched against the query, ranked by
-- relevance, then newest first, then (session_id, run_id, position) for a total order the keyset cursor follows;
-- or, when more messages match than search_terms.MAX_RANKED (on a first page; a cursor keeps its page's order),
-- newest first, as the index answers them (`rank` is then the order's 0, `hit_rank` the reported rank).
-- Only the page's rows get a snippet (ts_headline is the costly part) and the run their session's name derives
-- from (session_name_run.sql, as the list names sessions).
WITH query AS MATERIALIZED (
    SELECT {tsquery} AS q
),
found AS (
    SELECT s.session_id, s.session_type, s.agent_id, s.team_id, s.workflow_id, s.user_id, s.session_data,
           s.workflow_data, r.run_id, m.position, m.message_id, m.role, m.created_at, m.body,
           ts_rank(to_tsvector(%(config)s::regconfig, left(m.body, {max_text})), query.q) AS hit_rank
    FROM query
    CROSS JOIN {sessions} s
    JOIN {runs} r ON r.session_id = s.session_id
    CROSS JOIN LATERAL ({messages}) m
    WHERE to_tsvector(%(config)s::regconfig, left(m.body, {max_text})) @@ query.q
      {conditions}
),
decided AS (
    SELECT COALESCE(%(order)s::text, CASE WHEN (SELECT count(*) FROM found) > %(max_ranked)s THEN 'recent'
                                          ELSE 'relevance' END) AS ordered_by
),
sorted AS (
    SELECT f.*, d.ordered_by, CASE d.ordered_by WHEN 'recent' THEN 0::real ELSE f.hit_rank END AS rank
    FROM found f CROSS JOIN decided d
),
page AS (
    SELECT * FROM sorted
    {after}
    ORDER BY rank DESC, created_at DESC, session_id, run_id, position
    LIMIT %(limit)s
)
SELECT p.session_id, p.session_type, p.agent_id, p.team_id, p.workflow_id, p.user_id, p.session_data,
       p.workflow_data, p.run_id, p.position, p.message_id, p.role, p.created_at, p.hit_rank AS rank, p.ordered_by,
       ts_headline(%(config)s::regconfig, translate(p.body, E'\x01\x02', '  '), query.q, {headline}) AS snippet,
       n.name_run
FROM page p
CROSS JOIN query
{name_run}
ORDER BY p.rank DESC, p.created_at DESC, p.session_id, p.run_id, p.position
