-- Runs of a page of sessions, only for tables migrated from agno 2.x whose names may come from a legacy blob.
SELECT r.session_id, jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id) AS run_list
FROM {runs} r
WHERE r.session_id = ANY(%(session_ids)s::text[])
GROUP BY r.session_id
