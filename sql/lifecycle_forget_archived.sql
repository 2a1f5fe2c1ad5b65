-- Remove a restored session from the archive (its archived runs go with it: ON DELETE CASCADE).
DELETE FROM {archived_sessions} WHERE session_id = %(session_id)s
