-- The list's `q=` condition from the search index, on the list's session row `s` (extension `session-search`): a row
-- of the session (a message or its stored name) matches the words of `q`, or a message of one of its runs queued
-- for the drain does (those runs' rows may be of an older version: skipped). One uncorrelated IN: a semi-join.
s.session_id IN (
    SELECT h.session_id FROM {search} h
    WHERE h.document @@ plainto_tsquery(%(search_config)s::regconfig, %(q)s)
      AND NOT EXISTS (SELECT 1 FROM {pending} p WHERE p.session_id = h.session_id AND p.run_id = h.run_id)
    UNION ALL
    SELECT p.session_id FROM {pending} p
    JOIN {runs} r ON r.run_id = p.run_id AND r.session_id = p.session_id
    CROSS JOIN LATERAL {fn_extract}(r.run_data, r.created_at, %(search_config)s::regconfig) m
    WHERE m.document @@ plainto_tsquery(%(search_config)s::regconfig, %(q)s))
