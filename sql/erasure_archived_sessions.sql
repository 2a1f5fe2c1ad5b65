t.user_id = %(user_id)s
