-- The drain's second step: the taken runs' rows replaced by their committed versions, with the same extraction as
-- the backfill. Their sessions are locked FOR SHARE first (an owner, type or component change waits for this drain
-- and then updates the rows it wrote, as the backfill's batches do), then their old rows: both NOWAIT, so a writer
-- holding either makes the drain give up at once and retry later; a drain never waits for a writer, and no writer
-- can deadlock with it.
SELECT 1 FROM {sessions} s
WHERE s.session_id IN (SELECT unnest(%(sessions)s::varchar[]))
FOR SHARE NOWAIT;
SELECT 1 FROM {search} h
WHERE (h.session_id, h.run_id) IN (SELECT * FROM unnest(%(sessions)s::varchar[], %(runs)s::varchar[]))
  AND h.position >= 0
FOR UPDATE NOWAIT;
DELETE FROM {search} h
WHERE (h.session_id, h.run_id) IN (SELECT * FROM unnest(%(sessions)s::varchar[], %(runs)s::varchar[]))
  AND h.position >= 0;
{index_runs};
