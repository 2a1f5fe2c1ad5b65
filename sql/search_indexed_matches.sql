-- The index's rows matching the query (its `query` CTE's tsquery), with the filters on them and their rank; rows of
-- runs queued for the drain are left out (they may be of an older version: search_queued_matches.sql reads those
-- runs themselves). Composed into search_messages.sql (every match) and search_recent.sql (newest first).
SELECT h.session_id, h.run_id, h.position, h.message_id, h.role, h.created_at, ts_rank(h.document, query.q) AS rank
FROM query
CROSS JOIN {search} h
WHERE h.document @@ query.q AND h.position >= 0
  AND NOT EXISTS (SELECT 1 FROM {pending} p WHERE p.session_id = h.session_id AND p.run_id = h.run_id)
  {conditions}
