-- Release the legal hold on a session id; the id when there was one.
DELETE FROM {holds} WHERE session_id = %(session_id)s RETURNING session_id
