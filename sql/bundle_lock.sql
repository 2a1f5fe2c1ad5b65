-- An import, step 1: lock the session id's row if it exists, and say whose it is.
SELECT s.user_id FROM {sessions} s WHERE s.session_id = %(session_id)s FOR UPDATE
