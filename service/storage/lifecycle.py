"""The session lifecycle's side tables (`agno-session migrate --lifecycle`): archived sessions and runs beside agno's
tables, legal holds, and erasure jobs; and the moves between agno's tables and the archive, each in the caller's
transaction.

Rows move inside PostgreSQL (INSERT ... SELECT of explicit column lists read from the catalog), never through
Python, so every value stays what it was: JSON null and SQL NULL apart, every type and byte kept. Related rows agno
keeps beside a session (tool results, transcripts, compactions) stay where they are while it is archived, keyed by
its id; purging it deletes them with AgentOS's cascade (sessions.cascade).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from psycopg2 import sql

from service.storage.counts import derived_name
from service.storage.errors import RunConflict
from service.storage.pool import Database
from service.storage.schema import table_exists
from service.storage.sessions import RELATED, cascade


class LifecycleMissing(Exception):
    """The lifecycle's tables do not exist in this database (`agno-session migrate --lifecycle` creates them), or
    lack columns agno's tables gained since (running it again adds them)."""


class SessionHeld(Exception):
    """Some of the sessions are under an active legal hold: nothing was changed."""

    def __init__(self, session_ids: list[str]) -> None:
        super().__init__(session_ids)
        self.session_ids = session_ids


class SessionExists(Exception):
    """The archived session's id was taken by a live session since it was archived: nothing was restored."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session_id = session_id


@dataclass(frozen=True)
class LifecycleNames:
    """What the lifecycle's tables of one sessions table are called: plain names for migrate, regclass text for
    the catalog, and the fragments its SQL files are composed with."""

    archived_sessions: str
    archived_runs: str
    holds: str
    erasures: str
    archived_runs_session: str
    hold_trigger: str
    hold_function: str
    regclass: dict[str, str] = field(hash=False)
    fragments: dict[str, sql.Composable] = field(hash=False)

    @property
    def tables(self) -> list[str]:
        """Its tables, in creation order."""
        return [self.archived_sessions, self.archived_runs, self.holds, self.erasures]


@cache
def _names(schema: str, session_table: str, runs_table: str) -> LifecycleNames:
    tables = {what: derived_name(session_table, what)
              for what in ("archived_sessions", "archived_runs", "holds", "erasures")}
    index = derived_name(session_table, "archived_runs_session")
    trigger, function = derived_name(session_table, "hold_refuses_delete"), derived_name(session_table, "hold_check")
    regclass = {what: f'"{schema}"."{name}"' for what, name in tables.items()}
    regclass |= {"sessions": f'"{schema}"."{session_table}"', "runs": f'"{schema}"."{runs_table}"'}
    fragments: dict[str, sql.Composable] = {what: sql.Identifier(schema, name) for what, name in tables.items()}
    fragments |= {"archived_runs_session": sql.Identifier(index), "hold_trigger": sql.Identifier(trigger),
                  "hold_function": sql.Identifier(schema, function)}
    return LifecycleNames(*tables.values(), index, trigger, function, regclass, fragments)


def names(db: Database) -> LifecycleNames:
    """What the lifecycle's tables of `db`'s sessions table are called (migrate creates them under these names)."""
    return _names(db.config.schema, db.config.session_table, db.config.runs_table)


def query(db: Database, name: str, **fragments: sql.Composable) -> sql.Composed:
    """`sql/<name>.sql` composed with the database's identifiers, the lifecycle's tables and `fragments`."""
    return db.query(name, **names(db).fragments, **fragments)


def installed(db: Database) -> bool:
    """Whether the lifecycle's tables exist (the routes answer 503 without them; `agno-session check`)."""
    return all(table_exists(db, table) for table in names(db).tables)


@dataclass(frozen=True)
class Columns:
    """The columns archive and restore copy: agno's tables' own, as they are now."""

    sessions: sql.Composable
    runs: sql.Composable


def checked_columns(db: Database, cur: Any) -> Columns:
    """agno's tables' columns, checked against the archives' (LifecycleMissing when they are absent or lack one)."""
    cur.execute(db.query("lifecycle_columns"), names(db).regclass)
    found = cur.fetchone()
    if not found["holds"] or not found["archived_sessions"] or not found["archived_runs"]:
        raise LifecycleMissing("the lifecycle's tables are missing: run `agno-session migrate --lifecycle`")
    for live, archive in (("sessions", "archived_sessions"), ("runs", "archived_runs")):
        if set(found[live]) - set(found[archive]):
            raise LifecycleMissing(f"agno's {live} table has columns its archive lacks: run "
                                   "`agno-session migrate --lifecycle` again")
    return Columns(*(sql.SQL(", ").join(map(sql.Identifier, found[t])) for t in ("sessions", "runs")))


def held_ids(db: Database, cur: Any, session_ids: list[str], now: int) -> set[str]:
    """Which of the ids are under an active legal hold at `now` (epoch seconds), in the caller's transaction."""
    if not session_ids:
        return set()
    cur.execute(query(db, "lifecycle_held"), {"session_ids": session_ids, "now": now})
    return {row["session_id"] for row in cur.fetchall()}


def refuse_held(db: Database, cur: Any, session_ids: list[str], now: int) -> None:
    """SessionHeld when any of the ids is under an active hold at `now` (the caller's transaction rolls back)."""
    held = held_ids(db, cur, session_ids, now)
    if held:
        raise SessionHeld(sorted(held))


def _locked(db: Database, cur: Any, name: str, session_ids: list[str], user_id: str | None) -> list[str]:
    cur.execute(query(db, name), {"session_ids": list(session_ids), "user_id": user_id})
    return [row["session_id"] for row in cur.fetchall()]


def archive_in(db: Database, cur: Any, session_ids: list[str], user_id: str | None, archived_by: str | None,
               reason: str | None, now: int) -> list[str]:
    """Move the live sessions (owned by `user_id` when given) and all their runs into the archive, in the caller's
    transaction; the ids moved (missing and foreign ids are skipped). SessionHeld, before anything changed, when
    any of them is under an active hold."""
    columns = checked_columns(db, cur)
    moved = _locked(db, cur, "lifecycle_lock_live", session_ids, user_id)
    if not moved:
        return []
    refuse_held(db, cur, moved, now)
    cur.execute(query(db, "lifecycle_archive", session_columns=columns.sessions, run_columns=columns.runs),
                {"session_ids": moved, "now": now, "archived_by": archived_by, "reason": reason})
    return moved


def restore_in(db: Database, cur: Any, session_id: str, user_id: str | None) -> bool:
    """Move an archived session (owned by `user_id` when given) and its runs back into agno's tables, in the caller's
    transaction; False when no such archived session. SessionExists when a live session took its id meanwhile,
    RunConflict when live runs took some of its run ids (the caller rolls back)."""
    columns = checked_columns(db, cur)
    if not _locked(db, cur, "lifecycle_lock_archived", [session_id], user_id):
        return False
    params = {"session_id": session_id}
    cur.execute(query(db, "lifecycle_restore_session", session_columns=columns.sessions), params)
    if cur.fetchone() is None:
        raise SessionExists(session_id)
    cur.execute(query(db, "lifecycle_restore_runs", run_columns=columns.runs), params)
    taken = cur.fetchone()["taken"]
    if taken:
        raise RunConflict(taken)
    cur.execute(query(db, "lifecycle_forget_archived"), params)
    return True


def purge_archived_in(db: Database, cur: Any, session_ids: list[str], user_id: str | None, *,
                      now: int | None = None, override_holds: bool = False) -> list[str]:
    """Delete archived sessions (owned by `user_id` when given), their archived runs, and what agno keeps beside
    them (AgentOS's cascade), in the caller's transaction; the ids purged. SessionHeld, before anything changed, when
    any is under an active hold at `now` (default: the clock), unless `override_holds`."""
    checked_columns(db, cur)  # LifecycleMissing rather than a missing table's error
    found = _locked(db, cur, "lifecycle_lock_archived", session_ids, user_id)
    if not found:
        return []
    if not override_holds:
        refuse_held(db, cur, found, int(time.time()) if now is None else now)
    cur.execute(query(db, "lifecycle_purge", related=RELATED), {"session_ids": found, "schema": db.config.schema})
    return cascade(db, cur)
