"""The cursor every statement runs on: rows as plain dicts, each statement behind the time it may still take, timed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg2.extensions

from service.storage import deadline
from service.storage.errors import DeadlinePassed


def statement_ms(default: float) -> int:
    """Milliseconds the next statement may run: what the request has left, else `default` seconds; DeadlinePassed
    once nothing is left (0 would mean no limit at all to PostgreSQL)."""
    ms = int(deadline.remaining(default) * 1000)
    if ms <= 0:
        raise DeadlinePassed("request deadline passed")
    return ms


def _limited(query: Any, ms: int, context: Any) -> str | bytes:
    """`query` behind `SET LOCAL statement_timeout`, in the same message: one implicit transaction outside a
    transaction block, the current one inside; psycopg2 answers with the last statement's result."""
    prefix = f"SET LOCAL statement_timeout = {ms};\n"
    if isinstance(query, bytes):  # execute_values composes bytes
        return prefix.encode("ascii") + query
    return prefix + (query if isinstance(query, str) else query.as_string(context))


class TimedCursor(psycopg2.extensions.cursor):
    """A cursor whose rows are plain dicts, reporting each statement's round trip once `observed` is set.

    Each statement is sent behind the statement timeout it may still use: with `statement_timeout` (seconds, a
    read outside a transaction) always, at most that long; in a transaction (its BEGIN set the limit) only while a
    request deadline is set, so each statement gets what the request has left, not the whole budget again.

    Rows are built with dict(zip()) in C: psycopg2's RealDictCursor fills each row key by key in Python, which
    cost more than the rest of rendering a 20-session list page."""

    observed: Any = None  # (seconds) -> None
    statement_timeout: float | None = None

    def _names(self) -> list[str]:
        return [column[0] for column in self.description]

    def fetchone(self) -> dict | None:
        row = super().fetchone()
        return None if row is None else dict(zip(self._names(), row, strict=True))

    def fetchmany(self, size: int | None = None) -> list[dict]:
        names = self._names()
        return [dict(zip(names, row, strict=True)) for row in super().fetchmany(size or self.arraysize)]

    def fetchall(self) -> list[dict]:
        names = self._names()
        return [dict(zip(names, row, strict=True)) for row in super().fetchall()]

    def __iter__(self) -> Iterator[dict]:
        names = self._names()
        return (dict(zip(names, row, strict=True)) for row in super().__iter__())

    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002 - psycopg2's parameter name
        left = deadline.remaining(self.statement_timeout)
        if left is not None:
            query = _limited(query, statement_ms(left), self)
        if self.observed is None:
            return super().execute(query, vars)
        started = time.perf_counter()
        try:
            return super().execute(query, vars)
        finally:
            self.observed(time.perf_counter() - started)
