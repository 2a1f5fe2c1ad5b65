-- (Re)count from the table itself, with writers held off (SHARE) so no delta is lost or counted twice. migrate
-- runs it under its lock timeout, after the triggers changed or when the counts differ from the table.
LOCK TABLE {sessions} IN SHARE MODE;
DELETE FROM {counts};
INSERT INTO {counts} (session_type, delta) SELECT session_type, count(*) FROM {sessions} GROUP BY session_type;
