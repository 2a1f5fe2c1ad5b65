t.agno_session_id IN ({subject})
