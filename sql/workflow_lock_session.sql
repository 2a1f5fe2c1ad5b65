-- The columns a workflow run reads before writing its session back; `lock` is FOR UPDATE inside the save.
SELECT session_type, user_id, session_data, metadata, created_at
FROM {sessions}
WHERE session_id = %(session_id)s
{lock}
