-- What one retention policy would do now, changing nothing: the sessions it matches and no hold keeps (`matches`
-- also leaves out those an earlier archive or delete policy takes), the runs it would move or delete (for trim_runs
-- those past the last %(keep)s), the held sessions it skips, and the first ids in session id order.
WITH matched AS (
    SELECT s.session_id, {held} AS held
    FROM {sessions} s
    WHERE {matches}
), acted AS (
    SELECT m.session_id, (SELECT count(*) FROM {runs} r WHERE r.session_id = m.session_id) AS runs
    FROM matched m
    WHERE NOT m.held
)
SELECT (SELECT count(*) FROM acted) AS sessions,
       (SELECT COALESCE(sum(GREATEST(a.runs - %(keep)s, 0)), 0) FROM acted a) AS runs,
       (SELECT count(*) FROM matched WHERE held) AS held,
       ARRAY(SELECT session_id FROM acted ORDER BY session_id LIMIT %(first)s) AS first_ids
