t.user_id = %(user_id)s OR t.session_id IN ({subject})
