"""The change log (`agno-session migrate --changes`): a side table of immutable changes appended by statement-level
triggers on agno's two tables in each writer's own transaction (AgentOS's, agno's runtime's and this service's
writes alike), read in pages that never skip a change whose transaction committed late, and pruned after
AGNO_CHANGES_RETENTION by each worker's pruner thread (changes_pruner.py), without a cron.

Reading: a change becomes visible to readers only once every older transaction has ended (its txid is below the
snapshot's xmin, the horizon), and is read in (txid, seq) order, so a reader that resumes after the position it was
given sees every change exactly once. The SQL is in sql/changes_*.sql; migrate's steps in migration.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, NamedTuple

from psycopg2 import sql

from service.storage.counts import derived_name
from service.storage.errors import TablesMissing
from service.storage.pool import Database
from service.storage.schema import table_exists

SCAN = 5000  # changes one read looks at, at most, when filters match few: the read's cost stays bounded
PRUNE_BATCH = 1000  # changes one pruning statement deletes, at most


class ChangesMissing(Exception):
    """The change log is not installed in this database (`agno-session migrate --changes`)."""


class CursorGone(Exception):
    """A resumed cursor lies before the change log's beginning: what followed it may have been pruned."""


class Position(NamedTuple):
    """A point in the change log: every change at or below (txid, seq) was considered; (horizon, 0) after a read
    that reached the horizon (every transaction below it had ended, so no change can appear there later). Ordered
    as the log is; a tuple, so rules/changes.py seals it without knowing this class."""

    txid: int
    seq: int


@dataclass(frozen=True)
class ChangeFilters:
    """Which changes a reader wants: the list's filters (`type` is the session type), event types (None: all) and,
    for a caller scoped by JWT isolation, the owner every change must belong to (its session's user)."""

    type: str | None = None
    component_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    events: tuple[str, ...] | None = None
    owner: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The filters as a JSON object (what a cursor is bound to)."""
        found = asdict(self)
        found["events"] = list(self.events) if self.events is not None else None
        return found


@dataclass(frozen=True)
class ChangeNames:
    """What the change log of one sessions table is called: plain names for migrate and the catalog, regclass text,
    and the fragments its SQL files are composed with."""

    table: str
    state: str
    functions: tuple[str, ...]  # sessions', runs', immutability's
    triggers: tuple[str, ...]  # insert, update, delete: the same names on both tables
    immutable_trigger: str
    sessions_regclass: str
    runs_regclass: str
    fragments: dict[str, sql.Composable] = field(hash=False)


@dataclass(frozen=True)
class Page:
    """One read: the changes that matched (each a row with its `position`), where to resume (`next`, past every
    change considered, matched or not), and whether more were already waiting."""

    events: list[dict[str, Any]]
    next: Position
    has_more: bool


@cache
def _names(schema: str, session_table: str, runs_table: str) -> ChangeNames:
    table, state = derived_name(session_table, "changes"), derived_name(session_table, "changes_state")
    functions = tuple(derived_name(session_table, f"changes_{what}") for what in ("sessions_fn", "runs_fn",
                                                                                  "immutable_fn"))
    triggers = tuple(derived_name(session_table, f"changes_{event}") for event in ("insert", "update", "delete"))
    immutable = derived_name(session_table, "changes_immutable")
    fragments: dict[str, sql.Composable] = {
        "changes": sql.Identifier(schema, table), "changes_state": sql.Identifier(schema, state),
        "changes_key": sql.Identifier(derived_name(session_table, "changes_pkey")),
        "fn_sessions": sql.Identifier(schema, functions[0]), "fn_runs": sql.Identifier(schema, functions[1]),
        "fn_immutable": sql.Identifier(schema, functions[2]), "tg_immutable": sql.Identifier(immutable),
        **{f"tg_{event}": sql.Identifier(name) for event, name in zip(("insert", "update", "delete"), triggers,
                                                                        strict=True)},
    }
    return ChangeNames(table, state, functions, triggers, immutable, f'"{schema}"."{session_table}"',
                       f'"{schema}"."{runs_table}"', fragments)


def names(db: Database) -> ChangeNames:
    """What the change log of `db`'s sessions table is called (migrate creates it under these names)."""
    return _names(db.config.schema, db.config.session_table, db.config.runs_table)


def query(db: Database, name: str, **fragments: sql.Composable) -> sql.Composed:
    """`sql/<name>.sql` composed with the database's identifiers, the change log's names and `fragments`."""
    return db.query(name, **names(db).fragments, **fragments)


def installed(db: Database) -> bool:
    """Whether the change log's tables exist (the feed answers 503 without them; `agno-session check`)."""
    called = names(db)
    return table_exists(db, called.table) and table_exists(db, called.state)


def triggers_firing(db: Database) -> bool:
    """Whether all six triggers are on agno's tables and fire always (`check`: a missing one loses changes)."""
    called = names(db)
    rows = db.primary.read_all("changes_catalog", {"schema": db.config.schema, "functions": list(called.functions),
                                                   "sessions": called.sessions_regclass, "runs": called.runs_regclass,
                                                   "triggers": list(called.triggers)})
    firing = {(r["tbl"], r["name"]) for r in rows if r["kind"] == "trigger" and r["enabled"] == "A"}
    return len(firing) == 2 * len(called.triggers)


def install_fragments(db: Database, columns: list[str]) -> dict[str, sql.Composable]:
    """The fragments the trigger functions are composed with for a sessions table of these columns: agno 2.x's
    legacy `runs` column is compared where the table still has one."""
    legacy = sql.SQL("n.runs::jsonb IS DISTINCT FROM o.runs::jsonb") if "runs" in columns else sql.SQL("false")
    return {"runs_changed": legacy}


def function_bodies(db: Database, conn: Any, columns: list[str]) -> dict[str, str]:
    """The body (pg_proc.prosrc) of each trigger function this version installs, by name: what migrate compares."""
    text = query(db, "changes_create_functions", **install_fragments(db, columns)).as_string(conn)
    return dict(zip(names(db).functions[:2], text.split("$$")[1::2], strict=True))


def _read_one(db: Database, name: str, params: dict[str, Any]) -> list[dict]:
    """One read-only statement on the primary (a replica's horizon would lag), ChangesMissing without the log."""
    try:
        return db.primary.read_all(name, params, **names(db).fragments)
    except TablesMissing as exc:
        raise ChangesMissing(db.config.db_id) from exc


def head(db: Database) -> Position:
    """The current head: (horizon, 0), the position a reader without a cursor starts from (later changes only)."""
    (row,) = _read_one(db, "changes_head", {})
    return Position(int(row["horizon"]), 0)


def read(db: Database, after: Position | None, limit: int, filters: ChangeFilters, scan: int = SCAN,
         resuming: bool = False) -> Page:
    """Up to `limit` changes after `after` (the head when None) that match `filters`, in (txid, seq) order, of
    transactions below the horizon only. `next` resumes after every change this read considered: past the last
    one returned when the page is full, past the last one looked at when the scan bound was reached, else at the
    horizon. One statement, one snapshot, no transaction held. `resuming` (a client's cursor): CursorGone when
    `after` lies before the log's beginning (pruned, or older than the log), read by the same statement."""
    start = after if after is not None else head(db)
    rows = _read_one(db, "changes_read", {
        "txid": str(start.txid), "seq": start.seq, "scan": max(scan, limit + 1), "limit": limit + 1,
        "ops": list(filters.events) if filters.events is not None else None, "session_type": filters.type,
        "component_id": filters.component_id, "user_id": filters.user_id, "owner": filters.owner,
        "session_id": filters.session_id})
    summary = rows[0]
    if resuming and after is not None and after < Position(int(summary["pruned_txid"]), summary["pruned_seq"]):
        raise CursorGone(db.config.db_id)
    events = [{**row, "position": Position(int(row["txid"]), row["seq"])} for row in rows if row["txid"] is not None]
    for event in events:
        for key in ("horizon", "scanned", "last_txid", "last_seq", "pruned_txid", "pruned_seq", "txid", "seq"):
            event.pop(key)
    if len(events) > limit:
        events = events[:limit]
        return Page(events, events[-1]["position"], True)
    if summary["scanned"] >= max(scan, limit + 1):
        return Page(events, Position(int(summary["last_txid"]), summary["last_seq"]), True)
    return Page(events, max(start, Position(int(summary["horizon"]), 0)), False)


def prune(db: Database, retention_seconds: int, now_ms: int, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` of the oldest changes written more than `retention_seconds` before `now_ms` (a prefix
    of the log, of transactions every reader has passed); how many went. Another pruner at work: 0."""
    with db.primary.transaction() as cur:
        cur.execute(query(db, "changes_prune"), {"batch": batch, "cutoff": now_ms - retention_seconds * 1000})
        return cur.fetchone()["pruned"]


__all__ = ["ChangeFilters", "ChangeNames", "ChangesMissing", "CursorGone", "Page", "Position", "head", "installed",
           "names", "prune", "query", "read"]
