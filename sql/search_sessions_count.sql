-- How many sessions the backfill has done and has left (its progress lines), read once before it starts.
SELECT count(*) FILTER (WHERE %(after)s::varchar IS NOT NULL AND session_id <= %(after)s) AS done, count(*) AS total
FROM {sessions}
