"""Exact session totals per type from trigger-kept delta rows: the list's count stays O(1) as the table grows.

`agno-session migrate --indexes` installs them (sql/create_session_counts_*.sql; service/storage/migration.py).
The list uses them only while their table and all four triggers are in place and enabled, checked at most every
CHECK_EVERY seconds; a missing table found in between sends the list back to counting rows. The list asks two things:
`list_total` (the fragment its statement computes the total with) before the read, `split_total` after it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from psycopg2 import sql

from service.storage.errors import StorageError
from service.storage.list_conditions import NARROWING
from service.storage.pool import Database

COUNT_ROWS = sql.SQL("SELECT count(*) AS total_count, 0 AS delta_rows FROM filtered")  # the fallback: count them
CHECK_EVERY = 10.0  # seconds a readiness answer is trusted: a dropped or disabled trigger is noticed this fast
COMPACT_AT = 64  # delta rows a list may sum before they are folded into one per type
_EVENTS = ("insert", "delete", "retype", "truncate")
_log = logging.getLogger(__name__)


def derived_name(session_table: str, suffix: str) -> str:
    """A name derived from the sessions table, cut to PostgreSQL's 63-byte identifier limit as the server would."""
    return f"{session_table}_svc_{suffix}".encode()[:63].decode(errors="ignore")


@dataclass(frozen=True)
class CountNames:
    """Everything the counts are called in one schema, derived once: identifiers for the SQL files, regclass
    text for the catalog checks, plain names for migrate, and the list's total."""

    counts: sql.Identifier
    counts_regclass: str
    sessions_regclass: str
    triggers: tuple[str, ...]
    counts_table: str
    function: str
    install: dict[str, sql.Composable] = field(hash=False)
    total: sql.Composed = field(hash=False)


@cache
def _names(schema: str, session_table: str) -> CountNames:
    counts_table = derived_name(session_table, "counts")
    function = derived_name(session_table, "count_change")  # one for all four triggers
    counts = sql.Identifier(schema, counts_table)
    regclass = f'"{schema}"."{counts_table}"'
    triggers = tuple(derived_name(session_table, f"count_{event}") for event in _EVENTS)
    install = {"counts": counts, "counts_name": sql.Literal(regclass), "fn_change": sql.Identifier(schema, function),
               **{f"tg_{event}": sql.Identifier(name) for event, name in zip(_EVENTS, triggers, strict=True)}}
    total = sql.SQL("SELECT COALESCE(sum(delta), 0)::bigint AS total_count, count(*) AS delta_rows FROM {counts} "
                    "WHERE %(session_type)s::text IS NULL OR session_type = %(session_type)s").format(counts=counts)
    return CountNames(counts, regclass, f'"{schema}"."{session_table}"', triggers, counts_table, function, install,
                      total)


def names(db: Database) -> CountNames:
    """What the counts of `db`'s sessions table are called (migrate installs them under these names)."""
    return _names(db.config.schema, db.config.session_table)



class _Readiness:
    """Whether one database's counts can be used, remembered for CHECK_EVERY seconds."""

    def __init__(self) -> None:
        self.ready = False
        self.checked = float("-inf")
        self.lock = threading.Lock()


_state: WeakKeyDictionary[Database, _Readiness] = WeakKeyDictionary()
_state_lock = threading.Lock()


def _readiness(db: Database) -> _Readiness:
    found = _state.get(db)  # the lock only for a database's first list
    if found is None:
        with _state_lock:
            found = _state.setdefault(db, _Readiness())
    return found


def ready(db: Database) -> bool:
    """Whether the list may read totals from the counts (one catalog query per CHECK_EVERY seconds)."""
    state = _readiness(db)
    if time.monotonic() - state.checked < CHECK_EVERY:
        return state.ready
    with state.lock:
        if time.monotonic() - state.checked >= CHECK_EVERY:
            called = names(db)
            row = db.read_one("session_counts_ready", {"counts": called.counts_regclass,
                                                       "sessions": called.sessions_regclass,
                                                       "triggers": list(called.triggers)})
            state.ready = bool(row and row["ready"])
            state.checked = time.monotonic()
    return state.ready


def agree(db: Database) -> bool | None:
    """Whether the counts equal the table's rows (None: not installed or not trusted, so not used)."""
    forget(db)
    if not ready(db):
        return None
    return bool(db.fetch_one_in_transaction("session_counts_agree", {}, counts=names(db).counts)["agree"])


def forget(db: Database) -> None:
    """Check again on the next list (after migrate, or when the counts table turned out to be gone)."""
    _readiness(db).checked = float("-inf")


def list_total(db: Database, filters: dict[str, Any]) -> sql.Composable:
    """How the list counts (a fragment yielding total_count and delta_rows): from the counts when it filters by type
    alone and they can be trusted, else by counting the filtered rows (COUNT_ROWS): any filter of NARROWING
    given (a user, a component, a name, metadata, dates) needs the rows."""
    by_type_only = all(filters.get(k) is None for k in NARROWING)
    return names(db).total if by_type_only and ready(db) else COUNT_ROWS


def split_total(db: Database, rows: list[dict]) -> tuple[int, list[dict]]:
    """The total the list's rows carry, and its page: the sessions without the count columns (an empty page is one
    row of counts alone). A read that summed more than COMPACT_AT delta rows folds them first."""
    total = rows[0]["total_count"] if rows else 0
    if rows and rows[0]["delta_rows"] > COMPACT_AT:
        compact(db)
    page = [row for row in rows if row["session_id"] is not None]
    for row in page:
        row.pop("total_count", None)
        row.pop("delta_rows", None)
    return total, page


def compact(db: Database) -> None:
    """Fold the delta rows into one per type, on the primary (a list may have read a replica); a failure only costs
    the next lists a few more rows to sum."""
    called, primary = names(db), db.primary
    try:
        with primary.transaction() as cur:
            cur.execute(primary.query("compact_session_counts", counts=called.counts),
                        {"counts": called.counts_regclass})
    except StorageError as exc:
        _log.warning("compacting session counts in %r failed: %s", db.config.db_id, exc.message)
