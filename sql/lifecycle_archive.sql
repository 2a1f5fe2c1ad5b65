-- Move locked live sessions and all their runs into the archive, column by column inside PostgreSQL (JSON null and
-- SQL NULL, every type, kept as they are): the session first (the archived runs' foreign key needs it), then the
-- runs, deleted explicitly before their sessions (whose delete would cascade them away), then the sessions.
INSERT INTO {archived_sessions} ({session_columns}, archived_at, archived_by, reason)
SELECT {session_columns}, %(now)s, %(archived_by)s, %(reason)s
FROM {sessions} WHERE session_id = ANY(%(session_ids)s::text[]);
WITH gone AS (
    DELETE FROM {runs} WHERE session_id = ANY(%(session_ids)s::text[]) RETURNING {run_columns}
)
INSERT INTO {archived_runs} ({run_columns}) SELECT {run_columns} FROM gone;
DELETE FROM {sessions} WHERE session_id = ANY(%(session_ids)s::text[])
