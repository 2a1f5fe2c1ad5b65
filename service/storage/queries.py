"""The SQL files (`sql/*.sql`) and their composition with one database's identifiers, rendered to text once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from psycopg2 import sql

from service.core.config import DatabaseConfig
from service.storage.versions import RUN_XMINS


@cache
def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql`, shipped inside the package (the top-level `sql/` in a checkout); read once."""
    return resources.files("service.storage").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


class _RenderedOnce(sql.Composed):
    """A composed query that becomes text once: psycopg2 calls as_string on every execute, quoting each identifier
    again. Every connection of a Database has the same server and encoding, so the text never differs."""

    _text: str | None = None

    def as_string(self, context: Any) -> str:
        if self._text is None:
            self._text = super().as_string(context)
        return self._text


class Queries:
    """One database's SQL files with its schema and table names composed in, each composition kept (a Database is
    one: `db.query(name)`)."""

    def __init__(self, config: DatabaseConfig) -> None:
        self._queries: dict[tuple, sql.Composed] = {}
        self.identifiers = {
            "schema": sql.Identifier(config.schema),
            "sessions": sql.Identifier(config.schema, config.session_table),
            "runs": sql.Identifier(config.schema, config.runs_table),
        }
        self._run_xmins = RUN_XMINS.format(runs=self.identifiers["runs"])

    def query(self, name: str, **fragments: sql.Composable) -> sql.Composed:
        """`sql/<name>.sql` with this database's identifiers, the runs' versions of session `s` ({run_xmins}) and the
        given fragments composed in (cached); a fragment may stand in for an identifier (the archive's tables)."""
        key = (name, *sorted((k, repr(v)) for k, v in fragments.items()))
        composed = self._queries.get(key)
        if composed is None:
            body = sql.SQL(sql_text(name)).format(**{**self.identifiers, "run_xmins": self._run_xmins, **fragments})
            composed = self._queries[key] = _RenderedOnce(body.seq)
        return composed
