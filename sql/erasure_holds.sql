t.session_id IN ({subject})
