"""Sessions and every row agno keeps beside them, read out as bundle cells and written back verbatim (extension
`portability`): where each table lives in a database, one export batch per statement, one import per transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from service.storage import archive, lifecycle, sessions
from service.storage.errors import StorageError
from service.storage.list_conditions import DATE_FILTERS, metadata_params
from service.storage.pool import Database

PAYLOAD_SCHEMA = "fs"  # AgentFS's schema for offloaded tool-result payloads (agno's _default_payload_table)
# How each related table finds a session's rows, and the order they are carried in (their keys).
_RELATED = {
    "runs": ("x.session_id = s.session_id", "x.run_index, x.created_at, x.run_id"),
    "tool_results": ("x.session_id = s.session_id", "x.result_id"),
    "tool_result_payloads": ("t.session_id = s.session_id", "x.namespace, x.user_id, x.path"),
    "transcripts": ("x.agno_session_id = s.session_id", "x.framework, x.project_key, x.session_id, x.subpath, "
                                                         "x.position"),
    "compactions": ("x.session_id = s.session_id", "x.compaction_id"),
}
_PAIRS_PER_CALL = 50  # jsonb_build_object takes at most 100 arguments


@dataclass(frozen=True)
class Layout:
    """Where a database keeps each bundle table (schema, name), and the columns and types of those that exist."""

    places: dict[str, tuple[str, str]]
    columns: dict[str, dict[str, str]]

    def identifier(self, table: str) -> sql.Identifier:
        return sql.Identifier(*self.places[table])

    def names(self) -> dict[str, str]:
        """The header's `tables`: each bundle table's qualified name where this database has it."""
        return {t: ".".join(self.places[t]) for t in self.columns}


def layout(db: Database) -> Layout:
    """The bundle tables of `db` (names as agno 3.1.10 fixes them beside the configured sessions and runs tables)."""
    c = db.config
    places = {"sessions": (c.schema, c.session_table), "runs": (c.schema, c.runs_table),
              "tool_results": (c.schema, "agno_tool_results"), "tool_result_payloads": (PAYLOAD_SCHEMA, "agno_fs"),
              "transcripts": (c.schema, "agno_transcripts"), "compactions": (c.schema, "agno_compactions")}
    names = list(places)
    found = db.read_all("bundle_catalog", {"names": names, "schemas": [places[n][0] for n in names],
                                           "tables": [places[n][1] for n in names]})
    columns = {r["name"]: dict(zip(r["columns"], r["types"], strict=True)) for r in found}
    if "tool_results" not in columns:  # payloads are found through the tool-result rows
        columns.pop("tool_result_payloads", None)
    return Layout(places, {name: columns[name] for name in names if name in columns})


def _cells(columns: dict[str, str], alias: str) -> sql.Composable:
    """A row as a JSON object of its columns' text forms (NULL stays null)."""
    pairs = [sql.SQL("{}, {}.{}::text").format(sql.Literal(name), sql.Identifier(alias), sql.Identifier(name))
             for name in columns]
    calls = [sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(pairs[i:i + _PAIRS_PER_CALL]))
             for i in range(0, len(pairs), _PAIRS_PER_CALL)]
    return sql.SQL(" || ").join(calls)


def _related(found: Layout) -> sql.Composable:
    """The runs' and related tables' rows of each session, as arrays of cells."""
    parts = []
    for table, (match, order) in _RELATED.items():
        if table not in found.columns:
            continue
        source = sql.SQL("{} x").format(found.identifier(table))
        if table == "tool_result_payloads":
            source = sql.SQL("{} x JOIN {} t ON x.namespace = t.namespace AND x.path = t.path").format(
                found.identifier(table), found.identifier("tool_results"))
        parts.append(sql.SQL(",\n       COALESCE((SELECT jsonb_agg({} ORDER BY {}) FROM {} WHERE {}), '[]') AS {}")
                     .format(_cells(found.columns[table], "x"), sql.SQL(order), source, sql.SQL(match),
                             sql.Identifier(table)))
    return sql.Composed(parts)


def export_filter(filters: dict[str, Any]) -> tuple[sql.Composable, dict[str, Any]]:
    """The WHERE of an export (the list's filters, session ids, and the position after which the batch starts)."""
    where = sessions.list_filter(filters.get("session_type"), filters.get("user_id") is not None,
                                 filters.get("component_id") is not None, False, len(filters.get("metadata") or ()),
                                 tuple(name for name in DATE_FILTERS if filters.get(name) is not None))
    extra = ["s.session_id > %(after)s"]
    if filters.get("session_ids"):
        extra.append("s.session_id = ANY(%(session_ids)s::text[])")
    joined = sql.SQL("\n  AND ".join(extra))
    where = sql.Composed([where, sql.SQL("\n  AND "), joined]) if where.string else sql.Composed(
        [sql.SQL("WHERE "), joined])
    params = {k: v for k, v in filters.items() if k != "metadata"} | metadata_params(filters.get("metadata"))
    return where, params


def export_batch(db: Database, found: Layout, filters: dict[str, Any], after: str, batch: int
                 ) -> list[tuple[str, dict[str, list[dict]]]]:
    """Up to `batch` sessions after `after` (session id order) matching `filters`, each with its rows by table."""
    where, params = export_filter(filters)
    rows = db.read_all("bundle_export", {**params, "after": after, "batch": batch},
                       cells=_cells(found.columns["sessions"], "s"), related=_related(found), where=where)
    out = []
    for row in rows:
        session_id = row.pop("session_id")
        row["sessions"] = [row["sessions"]]
        out.append((session_id, row))
    return out


def export_rows(db: Database, found: Layout, filters: dict[str, Any], batch: int = 200
                ) -> Iterator[tuple[str, dict[str, list[dict]]]]:
    """Every matching session with its rows, batch by batch (memory holds one batch, whatever the total)."""
    after = ""
    while True:
        rows = export_batch(db, found, filters, after, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def export_count(db: Database, filters: dict[str, Any]) -> int:
    """How many sessions an export with `filters` carries (at the moment of asking)."""
    where, params = export_filter(filters)
    return db.read_one("bundle_count", {**params, "after": ""}, where=where)["sessions"]


class Refused(Exception):
    """A session of the bundle that cannot be written into this database (the reason says why); nothing of it was."""


class _DryRun(Exception):
    """Rolls a dry run's transaction back once everything was written."""


CREATED, REPLACED, SKIPPED, FAILED = "created", "replaced", "skipped", "failed"


def import_session(db: Database, found: Layout, session_id: str, rows: dict[str, list[dict]], on_conflict: str,
                   owner: str | None = None, dry_run: bool = False,
                   before_commit: Callable[[], None] | None = None) -> str:
    """Write one session with all its rows in one transaction: CREATED, REPLACED (on_conflict "replace": the
    existing one, the `owner`'s only when given, deleted with its cascade first) or SKIPPED (on_conflict "skip");
    raises Refused (nothing written) for an existing id under "fail", a foreign one, a held one to replace, or rows
    the database cannot hold. A `dry_run` writes it all and rolls back. `before_commit` runs last inside the
    transaction (tests)."""
    _check_fits(found, rows)
    outcome = CREATED
    try:
        with db.transaction() as cur:
            cur.execute(db.query("bundle_lock"), {"session_id": session_id})
            existing = cur.fetchone()
            if existing is not None:
                if on_conflict == "skip":
                    return SKIPPED
                if on_conflict == "fail" or (owner is not None and existing["user_id"] != owner):
                    raise Refused(f"session {session_id!r} already exists")
                sessions.delete_in(db, cur, [session_id], owner, archive.hold_guard(db))
                outcome = REPLACED
            for table, found_rows in rows.items():
                if found_rows:
                    _insert(cur, found, table, found_rows)
            if before_commit is not None:
                before_commit()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except lifecycle.SessionHeld as exc:
        raise Refused(f"session {session_id!r} is under a legal hold: it is not replaced") from exc
    return outcome


def import_entries(db: Database, found: Layout, entries: Iterable[Any], on_conflict: str, owner: str | None = None,
                   dry_run: bool = False) -> Iterator[tuple[Any, str, str | None]]:
    """Each entry (`session_id`, `rows`; already checked whole) imported in its own transaction: the entry, its
    outcome, and why it failed (None otherwise)."""
    for entry in entries:
        try:
            yield entry, import_session(db, found, entry.session_id, entry.rows, on_conflict, owner, dry_run), None
        except Refused as exc:
            yield entry, FAILED, str(exc)
        except StorageError as exc:
            yield entry, FAILED, exc.message


def _check_fits(found: Layout, rows: dict[str, list[dict]]) -> None:
    """Every table and column the rows need exists here (columns this database adds are left to their default)."""
    for table, found_rows in rows.items():
        if not found_rows:
            continue
        if table not in found.columns:
            raise Refused(f"this database has no table for {table} ({'.'.join(found.places[table])}): let agno "
                          "create it first")
        missing = sorted({c for row in found_rows for c in row} - set(found.columns[table]))
        if missing:
            raise Refused(f"{'.'.join(found.places[table])} has no columns {missing}")


def _insert(cur: Any, found: Layout, table: str, rows: list[dict]) -> None:
    """Insert rows of one table, each cell through its column type's input function (text form in, same value)."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    types = found.columns[table]
    template = "(" + ", ".join(f"%s::{types[name]}" for name in names) + ")"
    statement = sql.SQL("INSERT INTO {} ({}) VALUES %s").format(
        found.identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)))
    execute_values(cur, statement.as_string(cur), [tuple(row.get(n) for n in names) for row in rows],
                   template=template, page_size=500)


HELD_IN_SOURCE = "under a legal hold in the source; copied, kept in both databases"
CHANGED_IN_SOURCE = ("changed in the source while it was moved; kept in both databases (the target holds the copy "
                     "from before the change)")


def delete_moved(db: Database, found: Layout, moved: dict[str, dict[str, list[dict]]]) -> dict[str, str]:
    """Remove sessions another database has committed (a move's second step) with agno's cascade, but only those
    whose rows are still the ones copied: they are locked, read again and compared in the delete's transaction, so
    a write that landed after the copy is never lost, and a session under a legal hold stays. Returns the ids kept
    (in both places), each with why."""
    ids = sorted(moved)
    with db.joined_transaction() as cur:
        cur.execute(db.query("bundle_lock_moved"), {"session_ids": ids})
        now = dict(_export_in_transaction(db, found, ids))
        held = lifecycle.held_ids(db, cur, ids, int(time.time())) if lifecycle.installed(db) else set()
        unchanged = [sid for sid in ids if sid in now and filled(now[sid]) == filled(moved[sid]) and sid not in held]
        if unchanged:
            sessions.delete_sessions(db, unchanged, None)
    return {sid: HELD_IN_SOURCE if sid in held else CHANGED_IN_SOURCE for sid in ids if sid not in unchanged}


def _export_in_transaction(db: Database, found: Layout, session_ids: list[str]
                           ) -> list[tuple[str, dict[str, list[dict]]]]:
    """export_batch for these ids, read inside the caller's joined transaction (after its locks)."""
    where, params = export_filter({"session_ids": session_ids})
    rows = db.fetch_all_in_transaction("bundle_export", {**params, "after": "", "batch": len(session_ids)},
                                       cells=_cells(found.columns["sessions"], "s"), related=_related(found),
                                       where=where)
    return [(row.pop("session_id"), {**row, "sessions": [row["sessions"]]}) for row in rows]


def filled(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The tables that hold rows (an absent table and an empty one hold the same)."""
    return {table: found for table, found in rows.items() if found}
