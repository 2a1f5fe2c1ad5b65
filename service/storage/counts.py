"""Exact session totals per type from trigger-kept delta rows: the list's count stays O(1) as the table grows.

`agno-session migrate --indexes` installs them (sql/create_session_counts.sql). The list uses them only while
their table and all four triggers are in place and enabled, checked at most every CHECK_EVERY seconds; a
missing table found in between sends the list back to counting rows.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from psycopg2 import sql

from service.storage.errors import StorageError
from service.storage.pool import Database, Replica

CHECK_EVERY = 10.0  # seconds a readiness answer is trusted: a dropped or disabled trigger is noticed this fast
COMPACT_AT = 64  # delta rows a list may sum before they are folded into one per type
_EVENTS = ("insert", "delete", "retype", "truncate")
_log = logging.getLogger(__name__)


def _derived(session_table: str, suffix: str) -> str:
    """A name derived from the sessions table, cut to PostgreSQL's 63-byte identifier limit as the server would."""
    return f"{session_table}_svc_{suffix}".encode()[:63].decode(errors="ignore")


def _name(db: Database, suffix: str) -> str:
    return _derived(db.config.session_table, suffix)


def _qualified(db: Database, table: str) -> str:
    """A table of this database's schema as regclass text."""
    return f'"{db.config.schema}"."{table}"'


@cache
def _fragments(schema: str, session_table: str) -> dict[str, sql.Composable]:
    counts_table = _derived(session_table, "counts")
    out: dict[str, sql.Composable] = {"counts": sql.Identifier(schema, counts_table),
                                      "counts_name": sql.Literal(f'"{schema}"."{counts_table}"')}
    for event in _EVENTS:
        out[f"tg_{event}"] = sql.Identifier(_derived(session_table, f"count_{event}"))
    out["fn_change"] = sql.Identifier(schema, _derived(session_table, "count_change"))  # one for all four
    out["total"] = sql.SQL(
        "SELECT COALESCE(sum(delta), 0)::bigint AS total_count, count(*) AS delta_rows FROM {counts} "
        "WHERE %(session_type)s::text IS NULL OR session_type = %(session_type)s").format(counts=out["counts"])
    return out


def fragments(db: Database) -> dict[str, sql.Composable]:
    """The identifiers the counts' SQL is composed with, and `total`, the list's total read from them."""
    return _fragments(db.config.schema, db.config.session_table)


def install(db: Database, cur: Any) -> None:
    """Create (or re-create) the counts table and triggers and recount, inside the caller's transaction."""
    parts = fragments(db)
    cur.execute(db.query("create_session_counts", **{k: v for k, v in parts.items() if k != "total"}))
    forget(db)


class _Readiness:
    """Whether one database's counts can be used, remembered for CHECK_EVERY seconds."""

    def __init__(self) -> None:
        self.ready = False
        self.checked = float("-inf")
        self.lock = threading.Lock()


_state: WeakKeyDictionary[Database, _Readiness] = WeakKeyDictionary()
_state_lock = threading.Lock()


def _readiness(db: Database) -> _Readiness:
    with _state_lock:
        return _state.setdefault(db, _Readiness())


def ready(db: Database) -> bool:
    """Whether the list may read totals from the counts (one catalog query per CHECK_EVERY seconds)."""
    state = _readiness(db)
    if time.monotonic() - state.checked < CHECK_EVERY:
        return state.ready
    with state.lock:
        if time.monotonic() - state.checked >= CHECK_EVERY:
            params = {"counts": _qualified(db, _name(db, "counts")),
                      "sessions": _qualified(db, db.config.session_table),
                      "triggers": [_name(db, f"count_{e}") for e in _EVENTS]}
            row = db.read_one("session_counts_ready", params)
            state.ready = bool(row and row["ready"])
            state.checked = time.monotonic()
    return state.ready


def forget(db: Database) -> None:
    """Check again on the next list (after migrate, or when the counts table turned out to be gone)."""
    _readiness(db).checked = float("-inf")


def total_fragment(db: Database) -> sql.Composable:
    """The list's total read from the counts, with how many delta rows it summed."""
    return fragments(db)["total"]


def compact(db: Database) -> None:
    """Fold the delta rows into one per type; a failure only costs the next lists a few more rows to sum."""
    if isinstance(db, Replica):  # the list read from the replica; folding is a write
        db = db.primary
    try:
        with db.transaction() as cur:
            cur.execute(db.query("compact_session_counts", counts=fragments(db)["counts"]),
                        {"counts": _qualified(db, _name(db, "counts"))})
    except StorageError as exc:
        _log.warning("compacting session counts in %r failed: %s", db.config.db_id, exc.message)
