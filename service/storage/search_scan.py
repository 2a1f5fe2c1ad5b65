"""Transcript search without the search index (a database without a complete `migrate --search`): the same
answers as the index gives, computed by scanning the runs under the request's time limit (storage/deadline.py: a
504 once it passes).

Hit rows (what both ways return, in the same order): session_id, session_type, agent_id, team_id, workflow_id,
user_id, session_data, workflow_data, run_id, position, message_id, role, created_at, rank (real), snippet
(ts_headline with chr(1)/chr(2) around matches, rules/render/search.py marks and escapes it), name_run
(session_name_run.sql)."""

from __future__ import annotations

from functools import cache

from psycopg2 import sql

from service.storage.pool import Database
from service.storage.search_terms import MAX_TEXT, Search, messages_of_run
from service.storage.session_names import name_run_join

# The filters on a scan's session row `s` and message `m` (the index keeps the same values in its own columns).
CONDITIONS = {
    "session_type": "s.session_type = %(session_type)s",
    "component_id": "CASE s.session_type WHEN 'agent' THEN s.agent_id WHEN 'team' THEN s.team_id "
                    "WHEN 'workflow' THEN s.workflow_id END = %(component_id)s",
    "user_id": "s.user_id = %(user_id)s",
    "role": "m.role = %(role)s",
    "created_after": "m.created_at >= %(created_after)s",
    "created_before": "m.created_at <= %(created_before)s",
}


@cache
def messages_fragment() -> sql.Composable:
    """The searchable messages of the run row `r`, for a lateral join (the index's extraction reads the same)."""
    return messages_of_run(sql.SQL("r.run_data"), sql.SQL("r.created_at"))


def message_hits(db: Database, search: Search) -> list[dict]:
    """Up to `search.limit` + 1 hit rows (the extra one says another page follows), scanning every run of the
    sessions the filters keep."""
    return db.read_all("search_scan", search.params(), **search.fragments(CONDITIONS), messages=messages_fragment(),
                       name_run=name_run_join(db.identifiers["runs"]))


def session_condition(runs: sql.Composable) -> sql.Composable:
    """The list's `q=` condition (extension `session-search`) on its session row `s` by scanning: a searchable
    message or the stored name matches the words of %(q)s under %(search_config)s."""
    query = "plainto_tsquery(%(search_config)s::regconfig, %(q)s)"
    return sql.SQL(
        "(to_tsvector(%(search_config)s::regconfig, COALESCE(s.session_data ->> 'session_name', '')) @@ {query} "
        "OR EXISTS (SELECT 1 FROM {runs} r CROSS JOIN LATERAL ({messages}) m WHERE r.session_id = s.session_id "
        "AND to_tsvector(%(search_config)s::regconfig, left(m.body, {max_text})) @@ {query}))"
    ).format(query=sql.SQL(query), runs=runs, messages=messages_fragment(),
             max_text=sql.Literal(MAX_TEXT))
