-- The ids of the subject's sessions, live and archived (a fragment of the erasure's conditions): what agno keeps
-- beside a session is keyed by its id, whichever table the session is in.
SELECT s.session_id FROM {sessions} s WHERE s.user_id = %(user_id)s
UNION ALL
SELECT a.session_id FROM {archived_sessions} a WHERE a.user_id = %(user_id)s
