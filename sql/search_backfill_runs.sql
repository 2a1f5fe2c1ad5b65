-- The runs of the batch's sessions, locked like them: the rows the batch rewrites are exactly these runs' (a run
-- inserted meanwhile is queued by its own trigger for the drain, never written by the batch).
SELECT run_id FROM {runs} WHERE session_id = ANY(%(sessions)s) FOR SHARE NOWAIT
