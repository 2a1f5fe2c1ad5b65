-- Message search over the index (search.py search_messages): the matching messages, filtered, ranked by
-- relevance then recency, after a keyset position, at most %(limit)s (the caller asks one more than a page). The
-- GIN index finds the matches ({tsquery} builds the query by mode with the index's own configuration); only the
-- page's rows read their run and session, for the snippet (ts_headline over agno's content rule) and the name.
WITH q AS (SELECT config, {tsquery} AS query FROM {state}),
page AS (
    SELECT h.session_id, h.run_id, h.position, h.message_id, h.role, h.created_at, h.user_id, h.session_type,
           h.component_id, ts_rank(h.document, q.query)::float8 AS rank
    FROM {search} h CROSS JOIN q
    WHERE h.document @@ q.query AND h.position >= 0
      AND (%(session_type)s::text IS NULL OR h.session_type = %(session_type)s)
      AND (%(component_id)s::text IS NULL OR h.component_id = %(component_id)s)
      AND (%(user_id)s::text IS NULL OR h.user_id = %(user_id)s)
      AND (%(role)s::text IS NULL OR h.role = %(role)s)
      AND (%(created_after)s::bigint IS NULL OR h.created_at >= %(created_after)s)
      AND (%(created_before)s::bigint IS NULL OR h.created_at <= %(created_before)s)
      AND (%(after_rank)s::float8 IS NULL OR ts_rank(h.document, q.query)::float8 < %(after_rank)s
           OR (ts_rank(h.document, q.query)::float8 = %(after_rank)s
               AND (h.created_at < %(after_created_at)s
                    OR (h.created_at = %(after_created_at)s
                        AND (h.session_id, h.run_id, h.position) > (%(after_session_id)s::varchar,
                                                                     %(after_run_id)s::varchar,
                                                                     %(after_position)s::integer)))))
    ORDER BY rank DESC, h.created_at DESC, h.session_id, h.run_id, h.position
    LIMIT %(limit)s
)
SELECT p.*, s.session_data -> 'session_name' AS stored_name,
       ts_headline(q.config, replace(replace(left({fn_text}(r.run_data -> 'messages' -> p.position), {max_text}),
                                             {start}, ''), {stop}, ''),
                   q.query, {headline_options}) AS snippet
FROM page p CROSS JOIN q
LEFT JOIN {runs} r ON r.run_id = p.run_id
LEFT JOIN {sessions} s ON s.session_id = p.session_id
ORDER BY p.rank DESC, p.created_at DESC, p.session_id, p.run_id, p.position
