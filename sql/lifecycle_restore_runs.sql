-- Put an archived session's runs back, column by column; `taken` lists run ids a live run holds meanwhile (the
-- caller then rolls the restore back). The archive rows go with the session (restore's last statement).
WITH put AS (
    INSERT INTO {runs} ({run_columns})
    SELECT {run_columns} FROM {archived_runs} WHERE session_id = %(session_id)s
    ON CONFLICT DO NOTHING
    RETURNING run_id
)
SELECT ARRAY(SELECT a.run_id FROM {archived_runs} a WHERE a.session_id = %(session_id)s
             AND a.run_id NOT IN (SELECT run_id FROM put) ORDER BY a.run_id) AS taken
