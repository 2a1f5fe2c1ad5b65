t.user_id = %(user_id)s
OR t.session_id IN (SELECT a.session_id FROM {archived_sessions} a WHERE a.user_id = %(user_id)s)
