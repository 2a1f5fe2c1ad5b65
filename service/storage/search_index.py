"""The message search index (`agno-session migrate --search`): a side table filled for existing rows by a resumable
backfill and kept current through triggers on agno's two tables: every writer (AgentOS, agno's runtime, this
service) queues the run it writes in its own transaction, the service's drain indexes queued runs a moment later
(search_drain.py), and searches read the queued runs themselves meanwhile; with its state for `check` and the
search, and its removal (`migrate --drop-search`).

The SQL is in sql/search_*.sql; migrate's steps are in migration.py (`_search_steps`). Every name is derived from
the sessions table like the session counts' (counts.derived_name).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from psycopg2 import sql

from service.storage.counts import derived_name
from service.storage.errors import StorageError
from service.storage.online_ddl import DdlConnection, MigrationFailed
from service.storage.pool import Database
from service.storage.schema import Index
from service.storage.search_terms import MAX_TEXT, messages_of_run

BATCH = 500  # sessions per backfill batch (halved while writers hold its rows, grown back after)
CHECK_EVERY = 10.0  # seconds `usable` trusts its last look at the catalog
ABSENT, BUILDING, COMPLETE, BROKEN = "absent", "building", "complete", "broken"


@dataclass(frozen=True)
class SearchNames:
    """What the index of one sessions table is called: plain names for migrate and the catalog, regclass text for
    to_regclass, and the fragments its SQL files are composed with."""

    table: str
    state: str
    pending: str
    doc: str
    sid: str
    recent: str
    functions: tuple[str, ...]  # extract, runs trigger's, sessions trigger's
    triggers: tuple[str, ...]  # on runs, on sessions
    sessions_regclass: str
    runs_regclass: str
    fragments: dict[str, sql.Composable] = field(hash=False)

    @property
    def relations(self) -> list[str]:
        """Its tables and indexes."""
        return [self.table, self.state, self.pending, self.doc, self.sid, self.recent]


@cache
def _names(schema: str, session_table: str, runs_table: str) -> SearchNames:
    table, state = derived_name(session_table, "search"), derived_name(session_table, "search_state")
    pending = derived_name(session_table, "search_pending")
    pending_key = derived_name(session_table, "search_pending_pkey")
    doc, sid = derived_name(session_table, "search_doc"), derived_name(session_table, "search_sid")
    recent = derived_name(session_table, "search_recent")
    functions = tuple(derived_name(session_table, f"search_{what}") for what in ("extract", "runs_fn", "sessions_fn"))
    triggers = (derived_name(session_table, "search_runs"), derived_name(session_table, "search_sessions"))
    fragments: dict[str, sql.Composable] = {
        "search": sql.Identifier(schema, table), "state": sql.Identifier(schema, state),
        "pending": sql.Identifier(schema, pending), "pending_key": sql.Identifier(pending_key),
        "pending_name": sql.Literal(f'"{schema}"."{pending}"'),
        "sid": sql.Identifier(sid), "sid_name": sql.SQL(sid),
        "search_name": sql.Literal(f'"{schema}"."{table}"'), "state_name": sql.Literal(f'"{schema}"."{state}"'),
        "max_text": sql.Literal(MAX_TEXT),
        **{f"fn_{what}": sql.Identifier(schema, name)
           for what, name in zip(("extract", "runs", "sessions"), functions, strict=True)},
        "messages_of_run": messages_of_run(sql.SQL("run_data"), sql.SQL("run_created_at")),
        "tg_runs": sql.Identifier(triggers[0]), "tg_sessions": sql.Identifier(triggers[1]),
    }
    return SearchNames(table, state, pending, doc, sid, recent, functions, triggers, f'"{schema}"."{session_table}"',
                       f'"{schema}"."{runs_table}"', fragments)


def names(db: Database) -> SearchNames:
    """What the search index of `db`'s sessions table is called."""
    return _names(db.config.schema, db.config.session_table, db.config.runs_table)


def query(db: Database, name: str) -> sql.Composed:
    """`sql/<name>.sql` composed with this database's tables and its search index's names (and `index_runs`, the
    insert the backfill and the drain share)."""
    fragments = names(db).fragments
    return db.query(name, **fragments, index_runs=db.query("search_index_runs", **fragments))


def gin_index(db: Database) -> Index:
    """The GIN index on the documents, built CONCURRENTLY once the backfill is done (the table is live by then)."""
    called = names(db)
    statement = "CREATE INDEX {}IF NOT EXISTS {} ON {} USING gin (document)"
    plain, concurrent = (sql.SQL(statement.format(verb, "{name}", "{table}")).format(
        name=sql.Identifier(called.doc), table=called.fragments["search"]) for verb in ("", "CONCURRENTLY "))
    return Index(called.doc, "search", plain, concurrent)


def recent_index(db: Database) -> Index:
    """The btree a broad search reads newest first (search_recent.sql), built CONCURRENTLY after the backfill."""
    called = names(db)
    name = called.recent
    statement = ("CREATE INDEX {}IF NOT EXISTS {} ON {} (created_at DESC, session_id, run_id, position) "
                 "WHERE position >= 0")
    plain, concurrent = (sql.SQL(statement.format(verb, "{name}", "{table}")).format(
        name=sql.Identifier(name), table=called.fragments["search"]) for verb in ("", "CONCURRENTLY "))
    return Index(name, "search", plain, concurrent)


def function_bodies(db: Database, conn: Any) -> dict[str, str]:
    """The body (pg_proc.prosrc) of each function this version installs, by name: what migrate compares."""
    text = query(db, "search_create_functions").as_string(conn)
    bodies = text.split("$$")[1::2]
    return dict(zip(names(db).functions, bodies, strict=True))


def backfill(db: Database, conn: DdlConnection, progress: Callable[[int, int], None], batch: int | None = None
             ) -> int:
    """Index the existing sessions after the state's position, `batch` at a time in session_id order, each batch
    with its position in one transaction (re-running resumes after the last one that committed); `progress` hears
    (sessions done, total) after each. Returns the sessions this run indexed."""
    called = names(db)
    (state,) = conn.rows("reading the search index's state", called.state, query(db, "search_state"))
    after = state["position"]
    (seen,) = conn.rows("counting the sessions to index", called.sessions_regclass,
                        query(db, "search_sessions_count"), {"after": after})
    batch = batch or BATCH
    done, total, size, indexed = seen["done"], seen["total"], batch, 0
    while True:
        try:
            step = conn.locked(f"indexing the sessions after {after!r} for search", called.sessions_regclass,
                               lambda cur, after=after, size=size: _batch(db, cur, after, size))
        except MigrationFailed:
            if size == 1:
                raise
            size = max(1, size // 4)  # writers kept some of these rows: a smaller batch holds fewer
            continue
        if step is None:
            return indexed
        after, count = step
        done, indexed, size = done + count, indexed + count, min(batch, size * 2)
        progress(done, max(total, done))


def _batch(db: Database, cur: Any, after: str | None, size: int) -> tuple[str, int] | None:
    """One batch: lock the next sessions and their runs (NOWAIT), replace their rows, record the position."""
    cur.execute(query(db, "search_backfill_sessions"), {"after": after, "limit": size})
    sessions = [row["session_id"] for row in cur.fetchall()]
    if not sessions:
        return None
    cur.execute(query(db, "search_backfill_runs"), {"sessions": sessions})
    runs = [row["run_id"] for row in cur.fetchall()]
    cur.execute(query(db, "search_backfill_write"), {"sessions": sessions, "runs": runs, "last": sessions[-1]})
    return sessions[-1], len(sessions)


@dataclass(frozen=True)
class Status:
    """What `check` says of the index: absent, building (with the backfill's position), complete, or broken (with
    what is wrong); `config` is its text search configuration when it has a state."""

    state: str
    config: str | None = None
    position: str | None = None
    problem: str = ""
    pending: int = 0  # runs written and not yet indexed by the drain (searches read them meanwhile)


def status(db: Database) -> Status:
    """The index's state from the catalog and its state row (a few reads; nothing locked)."""
    called = names(db)
    found = {row["name"]: row for row in db.read_all("migration_relations", {
        "schema": db.config.schema, "names": called.relations})}
    catalog = db.read_all("search_catalog", {"schema": db.config.schema, "functions": list(called.functions),
                                             "sessions": called.sessions_regclass, "runs": called.runs_regclass,
                                             "triggers": list(called.triggers)})
    if not found and not catalog:
        return Status(ABSENT)
    row = db.read_one("search_state", {}, **called.fragments) if called.state in found else None
    config, position = (row["config"], row["position"]) if row else (None, None)
    firing = [r for r in catalog if r["kind"] == "trigger" and r["enabled"] != "D"]
    functions = [r for r in catalog if r["kind"] == "function"]
    problems = [what for what, missing in (
        ("its tables", called.table not in found or row is None or called.pending not in found),
        ("its functions", len(functions) != len(called.functions)),
        ("its triggers (missing or disabled: writes since were not indexed)", len(firing) != len(called.triggers)),
    ) if missing]
    if problems:
        return Status(BROKEN, config, position, "missing " + ", ".join(problems))
    if not row["complete"]:
        return Status(BUILDING, config, position)
    if not (called.doc in found and found[called.doc]["valid"]):
        return Status(BROKEN, config, position, "its GIN index is missing or invalid")
    pending = db.read_one("search_pending_count", {}, **called.fragments)["pending"]
    return Status(COMPLETE, config, position, pending=pending)


class _Usable:
    """One database's last answer of `usable`, and when it was read."""

    def __init__(self) -> None:
        self.config: str | None = None
        self.checked = float("-inf")
        self.lock = threading.Lock()


_usable: WeakKeyDictionary[Database, _Usable] = WeakKeyDictionary()
_usable_lock = threading.Lock()


def usable(db: Database) -> str | None:
    """The index's text search configuration when searches may use it (complete, triggers firing), else None
    (scan instead); the catalog is read at most every CHECK_EVERY seconds per database."""
    with _usable_lock:
        found = _usable.setdefault(db, _Usable())
    if time.monotonic() - found.checked < CHECK_EVERY:
        return found.config
    with found.lock:
        if time.monotonic() - found.checked >= CHECK_EVERY:
            try:
                now = status(db)
            except StorageError:
                now = Status(BROKEN)
            found.config = now.config if now.state == COMPLETE else None
            found.checked = time.monotonic()
    return found.config


def forget(db: Database) -> None:
    """Look at the catalog again on the next search (after migrate changed the index)."""
    with _usable_lock:
        found = _usable.get(db)
    if found is not None:
        found.checked = float("-inf")
