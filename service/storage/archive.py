"""What the archive and hold routes do, each in one transaction of its own: archive (one or many), restore, purge,
the archived list, and placing or releasing a legal hold; plus the hold guard this service's deletes ask."""

from __future__ import annotations

import time
from typing import Any

from service.storage import counts, lifecycle
from service.storage import sessions as store
from service.storage.errors import TablesMissing
from service.storage.pool import Database


def archive_session(db: Database, session_id: str, user_id: str | None, archived_by: str | None,
                    reason: str | None, now: int, precondition: store.Precondition | None = None) -> bool:
    """Archive one session (its precondition given the locked row's tag first); False when no session matches."""
    with db.transaction() as cur:
        if precondition is not None:
            precondition(store.locked_tag(db, cur, session_id, None, user_id))
        return bool(lifecycle.archive_in(db, cur, [session_id], user_id, archived_by, reason, now))


def archive_sessions(db: Database, session_ids: list[str], user_id: str | None, archived_by: str | None,
                     reason: str | None, now: int) -> list[str]:
    """Archive many sessions at once, or none when any is held; the ids archived."""
    with db.transaction() as cur:
        return lifecycle.archive_in(db, cur, session_ids, user_id, archived_by, reason, now)


def restore_session(db: Database, session_id: str, user_id: str | None) -> dict | None:
    """Restore an archived session and read it back as the detail reads it (with its new tag); None when no
    archived session matches."""
    with db.transaction() as cur:
        if not lifecycle.restore_in(db, cur, session_id, user_id):
            return None
    return store.get_session(db, session_id, user_id)


def purge_archived(db: Database, session_id: str, user_id: str | None) -> bool:
    """Delete an archived session for good, with AgentOS's cascade; False when no archived session matches."""
    with db.transaction() as cur:
        return bool(lifecycle.purge_archived_in(db, cur, [session_id], user_id))


def list_archived(db: Database, filters: dict[str, Any], sort_by: str, sort_order: str, page: store.ListPage
                  ) -> tuple[int | None, list[dict]]:
    """The list's statement over the archive's tables: the total (None when not counted) and one page of rows,
    each with its name run and archive columns."""
    called = lifecycle.names(db)
    tables = {"sessions": called.fragments["archived_sessions"], "runs": called.fragments["archived_runs"]}
    total = counts.COUNT_ROWS if page.count else store.NO_TOTAL
    fragments, params = store.list_statement(filters, sort_by, sort_order, page, total, tables["runs"])
    try:
        rows = db.read_all("list_sessions", params, **fragments, **tables)
    except TablesMissing as exc:
        if not lifecycle.installed(db):
            raise lifecycle.LifecycleMissing("the lifecycle's tables are missing") from exc
        raise
    total_count, page_rows = counts.split_total(db, rows)
    for row in page_rows:
        name_run = row.pop("name_run", None)
        row["runs"] = [name_run] if name_run is not None else []
    return total_count, page_rows


def place_hold(db: Database, session_id: str, user_id: str | None, reason: str, until: int | None,
               held_by: str | None, now: int, precondition: store.Precondition | None = None) -> dict | None:
    """Place (or replace) the hold on a live or archived session, locked first so a concurrent archive, purge or
    delete waits and then sees it; None when neither matches. The precondition is given the live row's tag (None
    for an archived session)."""
    with db.transaction() as cur:
        if not _target_locked(db, cur, session_id, user_id, precondition):
            return None
        cur.execute(lifecycle.query(db, "lifecycle_hold_put"),
                    {"session_id": session_id, "reason": reason, "until": until, "held_by": held_by, "now": now})
        return dict(cur.fetchone())


def release_hold(db: Database, session_id: str, user_id: str | None,
                 precondition: store.Precondition | None = None) -> bool:
    """Release the hold on a live or archived session; False when there is no such session or hold."""
    with db.transaction() as cur:
        if not _target_locked(db, cur, session_id, user_id, precondition):
            return False
        cur.execute(lifecycle.query(db, "lifecycle_hold_release"), {"session_id": session_id})
        return cur.fetchone() is not None


def _target_locked(db: Database, cur: Any, session_id: str, user_id: str | None,
                   precondition: store.Precondition | None) -> bool:
    """Lock the live session, else the archived one; whether either matched (after the precondition allowed it)."""
    lifecycle.checked_columns(db, cur)  # LifecycleMissing rather than a missing table's error
    tag = store.locked_tag(db, cur, session_id, None, user_id)
    if precondition is not None:
        precondition(tag)
    if tag is not None:
        return True
    cur.execute(lifecycle.query(db, "lifecycle_lock_archived"), {"session_ids": [session_id], "user_id": user_id})
    return cur.fetchone() is not None


def hold_guard(db: Database) -> store.Guard:
    """What this service's deletes ask about the ids they deleted when the hold table exists: SessionHeld (rolling
    the delete back) when any is under an active hold."""
    def refuse_held(cur: Any, deleted: list[str]) -> None:
        lifecycle.refuse_held(db, cur, deleted, int(time.time()))
    return refuse_held
