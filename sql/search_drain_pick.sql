-- The drain's first step: take up to `limit` queued runs, skipping those a writer holds (its version is not
-- committed yet; it is taken on a later drain). Deleted here, in the drain's transaction: a writer that rewrites
-- one of them meanwhile waits for this drain to end and queues the run again, so its new version is indexed too.
DELETE FROM {pending} p
WHERE (p.session_id, p.run_id) IN (SELECT q.session_id, q.run_id FROM {pending} q LIMIT %(limit)s
                                   FOR UPDATE SKIP LOCKED)
RETURNING p.session_id, p.run_id
