-- Lock the batch's sessions that still match the policy, skipping any row a writer holds (that session is in use: a
-- later run takes it), in id order so overlapping sweeps queue instead of deadlocking.
SELECT s.session_id FROM {sessions} s
WHERE s.session_id = ANY(%(session_ids)s::text[])
  AND {matches}
ORDER BY s.session_id
FOR UPDATE OF s SKIP LOCKED
