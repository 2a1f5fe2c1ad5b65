"""The one way pages of sessions fetch what a session without a stored name is named after (session_name_run.sql),
shared by the list and the search hits so both name a session as the list renders it."""

from __future__ import annotations

from functools import cache

from psycopg2 import sql

from service.storage.queries import sql_text


def name_run_join(runs: sql.Identifier) -> sql.Composable:
    """The lateral join giving each page row `p` its `n.name_run`, reading the runs table `runs`."""
    return _name_run_join(runs.strings)


@cache  # one composition per runs table (an Identifier is not hashable, its names are)
def _name_run_join(runs: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(sql_text("session_name_run")).format(runs=sql.Identifier(*runs))
