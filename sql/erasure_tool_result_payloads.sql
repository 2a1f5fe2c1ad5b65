(t.namespace, t.path) IN (SELECT r.namespace, r.path FROM {tool_results} r
                          WHERE r.user_id = %(user_id)s OR r.session_id IN ({subject}))
