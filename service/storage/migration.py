"""`agno-session migrate`: look at what a database holds, plan only what is missing or differs from this version,
then do it without making writers wait longer than the lock timeout (online_ddl.py). A second run plans nothing
but "left as it was" and takes no lock on agno's tables."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql

from service.core.logs import LOGGER
from service.storage import changes as change_log
from service.storage import counts, lifecycle, search_drain, search_index
from service.storage import idempotency as key_table
from service.storage.online_ddl import DdlConnection, MigrationFailed
from service.storage.pool import Database
from service.storage.queries import sql_text
from service.storage.schema import (
    TRGM_MISSING,
    Index,
    agno_indexes,
    all_index_names,
    name_search_index,
    service_indexes,
    table_columns,
    trigram_index,
)

CREATE, REPLACE, REBUILD, RECOUNT, KEEP, SKIP = "create", "replace", "rebuild", "recount", "keep", "skip"
RESET, BACKFILL, COMPLETE, DROP, DRAIN, EXTEND = "reset", "backfill", "complete", "drop", "drain", "extend"
CHANGES = (CREATE, REPLACE, REBUILD, RECOUNT, RESET, BACKFILL, COMPLETE, DROP, EXTEND)
_DONE = {CREATE: "created", REPLACE: "replaced (it differed from this version's)", REBUILD: "rebuilt (it was invalid)",
         RECOUNT: "recounted", KEEP: "left as it was", SKIP: "skipped", RESET: "emptied for a new backfill",
         BACKFILL: "backfilled", COMPLETE: "marked complete", DROP: "dropped", DRAIN: "drained",
         EXTEND: "given the columns agno's table gained"}
_PLANNED = {CREATE: "would create", REPLACE: "would replace (it differs from this version's)",
            REBUILD: "would rebuild (it is invalid)", RECOUNT: "would recount", KEEP: "left as it is",
            SKIP: "would be skipped", RESET: "would be emptied for a new backfill", BACKFILL: "would backfill",
            COMPLETE: "would be marked complete", DROP: "would drop", DRAIN: "would index the runs queued since",
            EXTEND: "would be given the columns agno's table gained"}
_EVENTS = ("insert", "delete", "retype", "truncate")  # the triggers' suffixes, as counts.py names them
PROGRESS_EVERY = 2.0  # seconds between the backfill's progress lines
_PROBE = "agno_session_trigger_probe"  # a temporary table the expected trigger definitions are read from
log = logging.getLogger(LOGGER)


@dataclass
class Step:
    """One object migrate looked at: what it is, what it does (or did) to it, and how."""

    kind: str  # extension, table, index, function, triggers, session counts
    name: str
    action: str
    run: Callable[[], str | None] | None = None  # does the change; returns a detail for the summary
    detail: str = ""

    def line(self, dry_run: bool) -> str:
        """The summary line: `index ai.x: created concurrently in 0.2 s`."""
        outcome = (_PLANNED if dry_run else _DONE)[self.action]
        return f"{self.kind} {self.name}: {outcome}{f' {self.detail}' if self.detail else ''}"


@dataclass
class Migration:
    """One database's plan, then what was done; `notes` are what the operator should know (pg_trgm missing)."""

    db: Database
    conn: DdlConnection
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def apply(self, done: Callable[[Step], None]) -> None:
        """Run each step in order, telling `done` after each (the summary is printed as it goes)."""
        for step in self.steps:
            if step.run is not None:
                step.detail = step.run() or step.detail
            done(step)


@dataclass(frozen=True)
class SearchOptions:
    """What `migrate` does to the search index: install (and backfill) it with `config`, rebuild it, or drop it;
    `progress` hears the backfill's progress lines."""

    install: bool = False
    drop: bool = False
    rebuild: bool = False
    config: str = "simple"
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class ChangesOptions:
    """What `migrate` does to the change log: install it (`--changes`) or remove it (`--drop-changes`)."""

    install: bool = False
    drop: bool = False


@dataclass(frozen=True)
class LifecycleOptions:
    """What `migrate --lifecycle` installs: the archive, hold and erasure tables, and with `hold_trigger` the
    trigger that refuses AgentOS's own deletes of held sessions."""

    install: bool = False
    hold_trigger: bool = False


def plan(db: Database, conn: DdlConnection, indexes: bool, search: SearchOptions | None = None,
         idempotency: bool = False, lifecycle: LifecycleOptions | None = None,
         changes: ChangesOptions | None = None) -> Migration:
    """What migrate would do in `db`, read from the catalog (no lock on agno's tables, nothing changed)."""
    c = db.config
    called, keys = counts.names(db), key_table.names(db)
    migration = Migration(db, conn)
    found = {row["name"]: row for row in conn.rows(
        "reading the catalog", _qualified(db, c.session_table), db.query("migration_relations"),
        {"schema": c.schema, "names": [c.session_table, c.runs_table, called.counts_table, keys.table, keys.expiry,
                                       *all_index_names(db)]})}
    fresh = {table for table, name in (("sessions", c.session_table), ("runs", c.runs_table)) if name not in found}
    own = service_indexes(db) if indexes else []
    for table, name, file in (("sessions", c.session_table, "create_sessions_table"),
                              ("runs", c.runs_table, "create_runs_table")):
        born = [i for i in agno_indexes(db) + own if i.table == table]
        migration.steps.append(Step("table", _qualified(db, name), CREATE if table in fresh else KEEP,
                                    _create_table(db, conn, file, name, born) if table in fresh else None))
    for index in agno_indexes(db):
        migration.steps.append(_index_step(db, conn, index, found, index.table in fresh))
    if indexes:
        migration.steps += _counts_steps(db, conn, found, "sessions" in fresh)
        migration.steps += [_index_step(db, conn, index, found, "sessions" in fresh) for index in own]
        migration.steps += _trigram_steps(migration, found)
    if idempotency:
        migration.steps.append(_keys_step(db, conn, found))
    if lifecycle is not None and lifecycle.install:
        migration.steps += _lifecycle_steps(db, conn, lifecycle.hold_trigger)
    if changes is not None and changes.drop:
        migration.steps.append(_changes_drop_step(db, conn))
    elif changes is not None and changes.install:
        migration.steps += _changes_steps(db, conn)
    if search is not None and search.drop:
        migration.steps.append(_search_drop_step(db, conn))
    elif search is not None and search.install:
        migration.steps += _search_steps(migration, search)
    return migration


def installed(db: Database, conn: DdlConnection) -> dict[str, Any]:
    """What `serve` logs at start: this service's indexes that exist and are valid, and the session counts' state."""
    called, keys = counts.names(db), key_table.names(db)
    names = [i.name for i in service_indexes(db)] + [name_search_index(db)]
    found = {row["name"]: row for row in conn.rows(
        "reading the catalog", _qualified(db, db.config.session_table), db.query("migration_relations"),
        {"schema": db.config.schema, "names": [*names, called.counts_table, keys.table]})}
    triggers = [row for row in _counts_catalog(db, conn) if row["kind"] == "trigger"]
    if called.counts_table not in found and not triggers:
        state = "not installed (lists count rows; `agno-session migrate --indexes`)"
    elif called.counts_table in found and len(triggers) == 4 and all(t["enabled"] != "D" for t in triggers):
        state = "enabled"
    else:
        state = "incomplete or disabled (lists count rows; `agno-session migrate --indexes` repairs them)"
    return {"service_indexes": [n for n in names if n in found and found[n]["valid"]],
            "missing_indexes": [n for n in names if not (n in found and found[n]["valid"])],
            "session_counts": state,
            "idempotency_keys": "installed" if keys.table in found
            else "not installed (requests with an Idempotency-Key answer 503; `agno-session migrate --idempotency`)"}


def _qualified(db: Database, name: str) -> str:
    return f"{db.config.schema}.{name}"


def _create_table(db: Database, conn: DdlConnection, file: str, name: str, born: list[Index]) -> Callable[[], str]:
    """Create a missing table with its indexes in one transaction: nobody can lock a table before it exists, so
    the indexes need no CONCURRENTLY."""
    def run() -> str:
        def work(cur: Any) -> None:
            cur.execute(db.query(file))
            for index in born:
                cur.execute(index.plain)
        conn.locked(f"creating table {_qualified(db, name)}", _qualified(db, db.config.session_table), work)
        return f"with {len(born)} indexes" if born else ""
    return run


def _index_step(db: Database, conn: DdlConnection, index: Index, found: dict[str, dict], fresh: bool) -> Step:
    """An index that exists and is valid is left; a missing one is built CONCURRENTLY (with its table when the
    table is new); an invalid one, left by an interrupted concurrent build, is dropped and built again."""
    name = _qualified(db, index.name)
    if fresh:
        return Step("index", name, CREATE, None, "with its table")
    row = found.get(index.name)
    if row is not None and row["valid"]:
        return Step("index", name, KEEP)

    def build() -> str:
        seconds = 0.0
        if row is not None:
            drop = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(db.config.schema, index.name))
            seconds += conn.concurrently(f"dropping invalid index {name}", drop)
        log.info("building index concurrently (progress: pg_stat_progress_create_index)",
                 extra={"fields": {"db_id": db.config.db_id, "index": name}})
        seconds += conn.concurrently(f"building index {name}", index.concurrent)
        return f"concurrently in {seconds:.1f} s"
    return Step("index", name, CREATE if row is None else REBUILD, build)


def _keys_step(db: Database, conn: DdlConnection, found: dict[str, dict]) -> Step:
    """`--idempotency`: the Idempotency-Key table with its expiry index (extension `idempotency-keys`), a table of its
    own: creating it takes no lock on agno's tables."""
    keys = key_table.names(db)
    table = _qualified(db, keys.table)
    if keys.table in found and keys.expiry in found:
        return Step("table", table, KEEP)

    def create() -> str:
        conn.locked(f"creating table {table}", keys.regclass,
                    lambda cur: cur.execute(key_table.query(db, "create_idempotency_keys")))
        return "for Idempotency-Key answers"
    return Step("table", table, CREATE, create)


def _lifecycle_steps(db: Database, conn: DdlConnection, hold_trigger: bool) -> list[Step]:
    """`--lifecycle`: the archive, hold and erasure tables (tables of their own, reading agno's definitions), the
    columns agno's tables gained since (added to the archives, agno's tables untouched), and with `hold_trigger` the
    trigger on agno's sessions table."""
    called = lifecycle.names(db)
    sessions = called.regclass["sessions"]
    found = {row["name"] for row in conn.rows("reading the catalog", sessions, db.query("migration_relations"),
                                              {"schema": db.config.schema, "names": called.tables})}
    missing = [t for t in called.tables if t not in found]
    steps = [Step("tables", ", ".join(_qualified(db, t) for t in called.tables), CREATE if missing else KEEP,
                  (lambda: conn.locked("creating the lifecycle's tables", sessions,
                                       lambda cur: cur.execute(lifecycle.query(db, "lifecycle_create_tables"))))
                  if missing else None)]
    for live, archive in (("sessions", "archived_sessions"), ("runs", "archived_runs")):
        if getattr(called, archive) in found:
            steps.append(_archive_columns_step(db, conn, called.regclass[live], called.regclass[archive],
                                               _qualified(db, getattr(called, archive))))
    if hold_trigger:
        present = conn.rows("reading the catalog", sessions, db.query("lifecycle_catalog"),
                            {"sessions": sessions, "trigger": called.hold_trigger})
        on = bool(present) and present[0]["enabled"] != "D"
        steps.append(Step("trigger", f"{called.hold_trigger} on {db.config.session_table}", KEEP if on else CREATE,
                          None if on else lambda: conn.locked("installing the hold trigger", sessions,
                                                              lambda cur: cur.execute(lifecycle.query(
                                                                  db, "lifecycle_hold_trigger")))))
    return steps


def _archive_columns_step(db: Database, conn: DdlConnection, live: str, archive: str, name: str) -> Step:
    """Columns agno's table gained since its archive was created, added to the archive as nullable columns."""
    new = conn.rows("reading the catalog", live, db.query("lifecycle_new_columns"), {"live": live, "archive": archive})
    if not new:
        return Step("table", name, KEEP)
    table = sql.SQL(archive)  # regclass text: already quoted

    def extend() -> str:
        statement = sql.SQL("; ").join(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(table, sql.Identifier(c["name"]),
                                                                           sql.SQL(c["type"])) for c in new)
        conn.locked(f"adding columns to {name}", archive, lambda cur: cur.execute(statement))
        return f"({', '.join(c['name'] for c in new)})"
    return Step("table", name, EXTEND, extend)


def _counts_catalog(db: Database, conn: DdlConnection) -> list[dict]:
    called = counts.names(db)
    return conn.rows("reading the session counts' catalog", called.sessions_regclass, db.query("migration_counts"),
                     {"schema": db.config.schema, "function": called.function, "table": called.sessions_regclass,
                      "triggers": list(called.triggers)})


def _counts_steps(db: Database, conn: DdlConnection, found: dict[str, dict], sessions_new: bool) -> list[Step]:
    """The counts table, the function, the four triggers and the recount: each changed only when it differs from
    what this version installs; a change to the triggers (or function) recounts in the same transaction."""
    called = counts.names(db)
    sessions = _qualified(db, db.config.session_table)
    catalog = [] if sessions_new else _counts_catalog(db, conn)
    function_sql = db.query("create_session_counts_function", **called.install)
    body = function_sql.as_string(conn.conn).split("$$")[1]
    current_fn = next((r["definition"] for r in catalog if r["kind"] == "function"), None)
    fn_action = CREATE if current_fn is None else KEEP if current_fn == body else REPLACE
    current = {r["name"]: (r["definition"], r["enabled"]) for r in catalog if r["kind"] == "trigger"}
    if not current:
        tg_action = CREATE
    elif set(current) != set(called.triggers) or fn_action == CREATE:
        tg_action = REPLACE
    else:
        tg_action = KEEP if _expected_triggers(db, conn) == current else REPLACE
    table_new = called.counts_table not in found
    recount = table_new or tg_action != KEEP or fn_action == REPLACE
    if not recount:
        agree = conn.rows("comparing the session counts with the table", sessions,
                          db.query("session_counts_agree", counts=called.counts))
        recount = not agree[0]["agree"]
    triggers_sql = db.query("create_session_counts_triggers", **called.install)
    recount_sql = db.query("recount_session_counts", counts=called.counts)

    def locked(what: str, *statements: sql.Composed) -> Callable[[], None]:
        def run() -> None:
            conn.locked(what, sessions, lambda cur: [cur.execute(s) for s in statements])
            counts.forget(db)
        return run

    counts_table = _qualified(db, called.counts_table)
    together = tg_action != KEEP
    return [
        Step("table", counts_table, CREATE if table_new else KEEP,
             locked(f"creating table {counts_table}", db.query("create_session_counts_table", **called.install))
             if table_new else None),
        Step("function", _qualified(db, called.function), fn_action,
             locked(f"installing function {called.function}", function_sql) if fn_action != KEEP else None),
        Step("triggers", f"{os.path.commonprefix(called.triggers)}{{{','.join(_EVENTS)}}} on {sessions}", tg_action,
             locked(f"installing the session counts' triggers on {sessions}", triggers_sql, recount_sql)
             if together else None),
        Step("session counts", counts_table, RECOUNT if recount else KEEP,
             locked(f"recounting the sessions of {sessions}", recount_sql) if recount and not together else None,
             "with the triggers" if together else ""),
    ]


def _expected_triggers(db: Database, conn: DdlConnection) -> dict[str, tuple[str, str]]:
    """The four trigger definitions this version installs, in PostgreSQL's own normal form: created on a temporary
    copy of the sessions table in a transaction rolled back, read back, and renamed to the real table."""
    called = counts.names(db)
    probe = sql.Identifier(_PROBE)
    create = sql.SQL(sql_text("create_session_counts_triggers")).format(
        **{**db.identifiers, **called.install, "sessions": probe})

    def read(cur: Any) -> dict[str, tuple[str, str]]:
        cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {})").format(probe, db.identifiers["sessions"]))
        cur.execute(create)
        # pg_get_triggerdef names the table schema-qualified, a temporary one in pg_temp
        cur.execute("SELECT t.tgname::text AS name, pg_get_triggerdef(t.oid) AS definition, "
                    "t.tgenabled::text AS enabled, format('pg_temp.%%I', %s::text) AS probe, "
                    "format('%%I.%%I', %s::text, %s::text) AS real "
                    "FROM pg_trigger t WHERE t.tgrelid = to_regclass(%s)",
                    (_PROBE, db.config.schema, db.config.session_table, f"pg_temp.{_PROBE}"))
        return {r["name"]: (r["definition"].replace(f" ON {r['probe']} ", f" ON {r['real']} ", 1), r["enabled"])
                for r in cur.fetchall()}
    return conn.probe("reading the session counts' triggers", called.sessions_regclass, read)


def _trigram_steps(migration: Migration, found: dict[str, dict]) -> list[Step]:
    """pg_trgm where it can be created (a note says why not otherwise), then the name search's index."""
    db, conn = migration.db, migration.conn
    (trgm,) = conn.rows("reading the catalog", "pg_extension", db.query("trgm_schema"))
    name = _qualified(db, name_search_index(db))
    if trgm["schema"] is not None:
        return [Step("extension", "pg_trgm", KEEP), _index_step(db, conn, trigram_index(db, trgm["schema"]), found,
                                                                False)]
    if not trgm["available"]:
        migration.notes.append(TRGM_MISSING.format(db_id=db.config.db_id, reason="not available on this server"))
        return [Step("extension", "pg_trgm", SKIP, None, "(not available on this server)"),
                Step("index", name, SKIP, None, "(pg_trgm is missing)")]
    extension, index = Step("extension", "pg_trgm", CREATE), Step("index", name, CREATE)

    def create_extension() -> str:
        try:
            conn.locked("creating extension pg_trgm", "pg_extension", lambda cur: cur.execute(db.query("create_trgm")))
        except MigrationFailed as exc:
            migration.notes.append(TRGM_MISSING.format(db_id=db.config.db_id, reason=exc.message))
            extension.action = index.action = SKIP
            return "(see the warning)"
        return ""

    def build_index() -> str:
        if extension.action == SKIP:
            return "(pg_trgm is missing)"
        (now,) = conn.rows("reading the catalog", "pg_extension", db.query("trgm_schema"))
        step = _index_step(db, conn, trigram_index(db, now["schema"]), found, False)
        return (step.run() or "") if step.run is not None else ""
    extension.run, index.run = create_extension, build_index
    return [extension, index]


def _trigger_catalog(db: Database, conn: DdlConnection, what: str, called: Any, relations: list[str],
                     catalog: str) -> tuple[dict[str, dict], list[dict]]:
    """A trigger-kept side table's relations (name → row with `valid`) and its functions and triggers (`catalog`:
    the SQL file reading them), from the catalog; `called` is its names (search_index's or changes')."""
    found = {row["name"]: row for row in conn.rows(
        f"reading {what}'s catalog", called.sessions_regclass, db.query("migration_relations"),
        {"schema": db.config.schema, "names": relations})}
    rows = conn.rows(f"reading {what}'s catalog", called.sessions_regclass, db.query(catalog),
                     {"schema": db.config.schema, "functions": list(called.functions),
                      "sessions": called.sessions_regclass, "runs": called.runs_regclass,
                      "triggers": list(called.triggers)})
    return found, rows


def _search_catalog(db: Database, conn: DdlConnection) -> tuple[dict[str, dict], list[dict]]:
    """The search index's relations (name → row with `valid`) and its functions and triggers, from the catalog."""
    called = search_index.names(db)
    return _trigger_catalog(db, conn, "the search index", called, called.relations, "search_catalog")


def _search_steps(migration: Migration, options: SearchOptions) -> list[Step]:
    """Tables, functions, triggers, then the backfill (resumed from its position), the GIN index built concurrently
    once the table is full, and the complete mark. Triggers come before the backfill, so nothing written meanwhile
    is missed; triggers that had to be (re)installed on an existing index, a changed configuration with
    --rebuild, or --rebuild itself empty it for a new backfill (writes may have gone unindexed)."""
    db, conn = migration.db, migration.conn
    called = search_index.names(db)
    sessions = called.sessions_regclass
    found, catalog = _search_catalog(db, conn)
    tables_new = called.table not in found or called.state not in found
    tables_missing = tables_new or called.pending not in found  # the queue came with a later version
    state = None if tables_new else conn.rows("reading the search index's state", called.state,
                                              search_index.query(db, "search_state"))[0]
    bodies = search_index.function_bodies(db, conn.conn)
    current = {r["name"]: r["definition"] for r in catalog if r["kind"] == "function"}
    fn_action = CREATE if not current else KEEP if current == bodies else REPLACE
    extract, _, sessions_fn = called.functions  # what indexed rows hold: another version of these means a rebuild
    rows_differ = any(name in current and current[name] != bodies[name] for name in (extract, sessions_fn))
    firing = {r["name"] for r in catalog if r["kind"] == "trigger" and r["enabled"] == "A"}
    tg_present = {r["name"] for r in catalog if r["kind"] == "trigger"}
    tg_action = KEEP if firing == set(called.triggers) else CREATE if not tg_present else REPLACE
    if state is not None and state["config"] != options.config and not options.rebuild:
        migration.notes.append(f"{db.config.db_id}: the search index uses the text search configuration "
                               f"{state['config']!r}, AGNO_SEARCH_CONFIG is {options.config!r}: run "
                               "`agno-session migrate --search --rebuild` to rebuild it with the new one")
    reset = state is not None and (options.rebuild or tg_action != KEEP or rows_differ)
    complete = state is not None and state["complete"] and not reset

    def locked(what: str, name: str, params: dict | None = None) -> Callable[[], None]:
        statement = search_index.query(db, name)
        return lambda: conn.locked(what, sessions, lambda cur: cur.execute(statement, params))

    def backfill() -> str:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if options.progress is not None and (time.monotonic() - last[0] >= PROGRESS_EVERY or done >= total):
                last[0] = time.monotonic()
                options.progress(f"search index: {done} of {total} sessions indexed "
                                 f"({100 * done // max(total, 1)}%)")
        started = time.monotonic()
        count = search_index.backfill(db, conn, progress)
        return f"({count} sessions in {time.monotonic() - started:.1f} s{resumed})"

    def mark_complete() -> None:
        conn.locked("marking the search index complete", called.state,
                    lambda cur: cur.execute(search_index.query(db, "search_complete")))
        search_index.forget(db)

    def drain() -> str:
        count = search_drain.drain_all(db)
        return f"({count} queued runs indexed)"

    table = _qualified(db, called.table)
    steps = [
        Step("table", f"{table}, {_qualified(db, called.state)} and {_qualified(db, called.pending)}",
             CREATE if tables_missing else KEEP,
             locked(f"creating the search index's tables {table}", "search_create_tables",
                    {"config": options.config}) if tables_missing else None),
        Step("functions", f"{_qualified(db, os.path.commonprefix(called.functions))}*", fn_action,
             locked("installing the search index's functions", "search_create_functions")
             if fn_action != KEEP else None),
        Step("triggers", f"{called.triggers[0]} on {db.config.runs_table}, {called.triggers[1]} on "
             f"{db.config.session_table}", tg_action,
             locked("installing the search index's triggers", "search_create_triggers") if tg_action != KEEP
             else None),
    ]
    if reset:
        steps.append(Step("search index", table, RESET,
                          locked(f"emptying {table}", "search_rebuild", {"config": options.config}),
                          "(--rebuild)" if options.rebuild else "(its triggers or functions were missing, disabled "
                          "or of another version)"))
    resumed = "" if complete or state is None or state["position"] is None or reset \
        else f", resumed after session {state['position']!r}"
    steps.append(Step("search index", table, KEEP if complete else BACKFILL, None if complete else backfill))
    steps.append(_index_step(db, conn, search_index.gin_index(db), found, False))
    steps.append(_index_step(db, conn, search_index.recent_index(db), found, False))
    steps.append(Step("search index", table, KEEP if complete else COMPLETE, None if complete else mark_complete))
    steps.append(Step("search index", _qualified(db, called.pending), DRAIN, drain))
    return steps


def _changes_catalog(db: Database, conn: DdlConnection) -> tuple[set[str], list[dict]]:
    """The change log's tables present, and its functions and triggers as the catalog has them."""
    called = change_log.names(db)
    found, catalog = _trigger_catalog(db, conn, "the change log", called, [called.table, called.state],
                                      "changes_catalog")
    return set(found), catalog


def _changes_steps(db: Database, conn: DdlConnection) -> list[Step]:
    """`--changes`: the log's tables (its own: no lock on agno's tables), the trigger functions (replaced when they
    differ from this version's), then the six statement-level triggers (three on each of agno's tables), replaced
    together unless all are there and firing."""
    called = change_log.names(db)
    sessions = called.sessions_regclass
    found, catalog = _changes_catalog(db, conn)
    columns = table_columns(db, db.config.session_table)
    fragments = change_log.install_fragments(db, columns)
    tables_missing = {called.table, called.state} - found
    current = {r["name"]: r["definition"] for r in catalog if r["kind"] == "function"}
    bodies = change_log.function_bodies(db, conn.conn, columns)
    fn_action = CREATE if not current else KEEP if all(current.get(k) == v for k, v in bodies.items()) else REPLACE
    firing = {(r["tbl"], r["name"]) for r in catalog if r["kind"] == "trigger" and r["enabled"] == "A"}
    wanted = {(table, name) for table in ("sessions", "runs") for name in called.triggers}
    present = {(r["tbl"], r["name"]) for r in catalog if r["kind"] == "trigger"}
    tg_action = KEEP if wanted <= firing else CREATE if not present else REPLACE

    def locked(what: str, *files: str, **extra: sql.Composable) -> Callable[[], None]:
        statements = [change_log.query(db, name, **extra) for name in files]
        return lambda: conn.locked(what, sessions, lambda cur: [cur.execute(s) for s in statements])

    table = _qualified(db, called.table)
    return [
        Step("tables", f"{table} and {_qualified(db, called.state)}", CREATE if tables_missing else KEEP,
             locked(f"creating the change log's tables {table}", "changes_create_tables") if tables_missing
             else None),
        Step("functions", f"{_qualified(db, os.path.commonprefix(called.functions))}*", fn_action,
             locked("installing the change log's functions", "changes_create_functions", **fragments)
             if fn_action != KEEP else None),
        Step("triggers", f"{os.path.commonprefix(called.triggers)}{{insert,update,delete}} on "
             f"{db.config.session_table} and {db.config.runs_table}", tg_action,
             locked("installing the change log's triggers", "changes_drop_triggers", "changes_create_triggers")
             if tg_action != KEEP else None),
    ]


def _changes_drop_step(db: Database, conn: DdlConnection) -> Step:
    """`--drop-changes`: triggers, functions and tables in one transaction, or nothing when none is there."""
    called = change_log.names(db)
    found, catalog = _changes_catalog(db, conn)
    present = bool(found or catalog)
    statements = [change_log.query(db, name) for name in ("changes_drop_triggers", "changes_drop")]

    def drop() -> None:
        conn.locked("dropping the change log", called.sessions_regclass,
                    lambda cur: [cur.execute(s) for s in statements])
    return Step("change log", _qualified(db, called.table), DROP if present else KEEP, drop if present else None,
                "with its triggers and functions" if present else "(not installed)")


def _search_drop_step(db: Database, conn: DdlConnection) -> Step:
    """`--drop-search`: triggers, functions and tables in one transaction, or nothing when none is there."""
    called = search_index.names(db)
    found, catalog = _search_catalog(db, conn)
    present = bool(found or catalog)

    def drop() -> None:
        conn.locked("dropping the search index", called.sessions_regclass,
                    lambda cur: cur.execute(search_index.query(db, "search_drop")))
        search_index.forget(db)
    return Step("search index", _qualified(db, called.table), DROP if present else KEEP, drop if present else None,
                "with its triggers and functions" if present else "(not installed)")


def migrate_database(db: Database, conn: DdlConnection, indexes: bool, dry_run: bool,
                     done: Callable[[Step], None], search: SearchOptions | None = None,
                     idempotency: bool = False, lifecycle: LifecycleOptions | None = None,
                     changes: ChangesOptions | None = None) -> Migration:
    """Plan, and unless `dry_run`, apply; `done` hears of each step as it ends."""
    migration = plan(db, conn, indexes, search, idempotency, lifecycle, changes)
    if dry_run:
        for step in migration.steps:
            done(step)
    else:
        migration.apply(done)
    return migration


__all__ = ["CHANGES", "ChangesOptions", "DdlConnection", "LifecycleOptions", "Migration", "MigrationFailed",
           "SearchOptions", "Step", "installed", "migrate_database", "plan"]
