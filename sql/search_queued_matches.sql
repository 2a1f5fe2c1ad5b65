-- The messages of the runs queued for the drain that match the query, read from the runs themselves with the
-- index's own extraction (so a run is found from its writer's commit on), with the filters on them and their rank.
-- Composed into search_messages.sql and search_recent.sql beside search_indexed_matches.sql.
SELECT r.session_id, r.run_id, m.message_position AS position, m.message_id, m.role, m.created_at,
       ts_rank(m.document, query.q) AS rank
FROM query
CROSS JOIN {pending} p
JOIN {runs} r ON r.run_id = p.run_id AND r.session_id = p.session_id
JOIN {sessions} s ON s.session_id = r.session_id
CROSS JOIN LATERAL {fn_extract}(r.run_data, r.created_at, %(config)s::regconfig) m
WHERE m.document @@ query.q
  {pending_conditions}
