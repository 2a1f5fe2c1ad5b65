t.user_id = %(user_id)s OR t.session_id IN (SELECT s.session_id FROM {sessions} s WHERE s.user_id = %(user_id)s)
