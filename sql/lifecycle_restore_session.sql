-- Put a locked archived session back among agno's sessions, column by column; no row when its id was taken since.
INSERT INTO {sessions} ({session_columns})
SELECT {session_columns} FROM {archived_sessions} WHERE session_id = %(session_id)s
ON CONFLICT DO NOTHING
RETURNING session_id
