t.caller = 'sub:' || %(user_id)s OR position(convert_to(%(quoted)s, 'UTF8') IN t.body) > 0
