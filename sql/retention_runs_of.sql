-- How many runs the locked sessions have: what archiving or deleting them moves or removes (counted for metrics).
SELECT count(*) AS runs FROM {runs} WHERE session_id = ANY(%(session_ids)s::text[])
