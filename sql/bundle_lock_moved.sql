-- A move's sessions and their runs, locked until its delete commits: a writer of one of them waits for that short
-- transaction (a new run waits too: its foreign key check needs the session row), so the rows compared with what
-- the target committed are the rows deleted.
SELECT s.session_id FROM {sessions} s WHERE s.session_id = ANY(%(session_ids)s::text[]) FOR UPDATE;
SELECT r.run_id FROM {runs} r WHERE r.session_id = ANY(%(session_ids)s::text[]) FOR UPDATE
