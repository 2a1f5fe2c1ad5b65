"""Erasure of one user (extension `erasure`): every row that is about them, counted (the dry run) or deleted in
small batches by a job whose row in the lifecycle's erasures table is its progress, its lease and, once it ends, its
receipt.

The work is a list of steps, each a table and a condition (sql/erasure_<step>.sql) over the rows that name the user:
their runs, their sessions' related rows (keyed by the session id, live or archived), their memories, their kept
Idempotency-Key answers, the holds on their sessions, then their sessions. A batch deletes at most BATCH rows of
one step and adds them to the job's counts in the same transaction, so the counts are exactly what was committed,
and a job resumed after a crash (its lease ran out) goes on from the rows that are left. Passes repeat until one
finds nothing: rows written meanwhile are erased too. The dry run counts the same conditions in one statement.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from service.storage import idempotency, lifecycle
from service.storage.binding import jsonb
from service.storage.errors import StorageError
from service.storage.pool import Database

BATCH = 500  # rows per batch transaction: the longest a writer of one of them waits is this batch's delete
LEASE = 60  # seconds a claimed job stays its worker's without a batch renewing it; past it another worker resumes it
LOCK_WAIT_MS = 1000  # a batch waits this long for a row a writer holds, then gives way and is tried again
RETRY_AFTER = 0.5  # seconds before a batch that gave way is tried again
HELD = "Session is under legal hold"

# The steps (each its label in the counts, a table, and sql/erasure_<step>.sql) in the order they run: related rows
# are found through the user's sessions, so the sessions go last.
STEPS = ("runs", "archived_runs", "tool_result_payloads", "tool_results", "transcripts", "compactions", "memories",
         "idempotency_keys", "holds", "sessions", "archived_sessions")
OPTIONAL = ("tool_result_payloads", "tool_results", "transcripts", "compactions", "memories", "idempotency_keys")


class SubjectHeld(Exception):
    """A session of the user is under an active legal hold, and holds were not overridden: the request is refused
    before anything is written; a running job stops (its committed batches stay erased)."""


def _params(user_id: str) -> dict[str, Any]:
    """The parameters of every erasure condition: the raw id, and as a JSON string (how kept answers hold it)."""
    return {"user_id": user_id, "quoted": json.dumps(user_id, ensure_ascii=False)}


def _targets(db: Database, present: dict[str, bool]) -> dict[str, sql.Composable]:
    """Each step whose table exists → that table."""
    schema = db.config.schema
    names = lifecycle.names(db).fragments
    tables: dict[str, sql.Composable] = {
        "runs": db.identifiers["runs"], "sessions": db.identifiers["sessions"],
        "archived_runs": names["archived_runs"], "archived_sessions": names["archived_sessions"],
        "holds": names["holds"], "tool_results": sql.Identifier(schema, "agno_tool_results"),
        "tool_result_payloads": sql.Identifier("fs", "agno_fs"),
        "transcripts": sql.Identifier(schema, "agno_transcripts"),
        "compactions": sql.Identifier(schema, "agno_compactions"),
        "memories": sql.Identifier(schema, "agno_memories"),
        "idempotency_keys": idempotency.names(db).fragments["keys"],
    }
    return {step: tables[step] for step in STEPS if step not in OPTIONAL or present[step]}


def _condition(db: Database, step: str) -> sql.Composed:
    """The step's condition over alias t, with the subject's sessions composed in."""
    subject = lifecycle.query(db, "erasure_subject_sessions")
    return lifecycle.query(db, f"erasure_{step}", subject=subject,
                           tool_results=sql.Identifier(db.config.schema, "agno_tool_results"))


def _present(db: Database, cur: Any) -> dict[str, bool]:
    """Which optional tables exist now."""
    cur.execute(db.query("erasure_tables"), {"schema": db.config.schema, "keys": idempotency.names(db).regclass})
    return dict(cur.fetchone())


def _check_installed(db: Database) -> None:
    if not lifecycle.installed(db):
        raise lifecycle.LifecycleMissing("the lifecycle's tables are missing: run `agno-session migrate --lifecycle`")


def _held(db: Database, cur: Any, user_id: str, now: int) -> bool:
    cur.execute(lifecycle.query(db, "erasure_held", subject=lifecycle.query(db, "erasure_subject_sessions")),
                {**_params(user_id), "now": now})
    return cur.fetchone()["held"]


def count(db: Database, user_id: str, override_holds: bool, now: int | None = None) -> dict[str, int]:
    """The dry run: per table, the rows an erasure would delete now (one statement, one snapshot). SubjectHeld when
    a session of the user is held and `override_holds` is false, as the erasure itself would refuse."""
    _check_installed(db)
    with db.transaction() as cur:
        if not override_holds and _held(db, cur, user_id, int(time.time()) if now is None else now):
            raise SubjectHeld()
        targets = _targets(db, _present(db, cur))
        columns = sql.SQL(", ").join(
            sql.SQL("(SELECT count(*) FROM {} t WHERE {}) AS {}").format(table, _condition(db, step),
                                                                          sql.Identifier(step))
            for step, table in targets.items())
        cur.execute(sql.SQL("SELECT {}").format(columns), _params(user_id))
        return {step: int(n) for step, n in cur.fetchone().items()}


def create(db: Database, user_id: str, user_hash: str, override_holds: bool, requested_by: str | None,
           worker: str | None = None) -> dict:
    """A new job (pending; with `worker`, already claimed by it), with zero counts for the tables that exist; its row.
    SubjectHeld when a session of the user is held and `override_holds` is false: nothing is written."""
    _check_installed(db)
    now = int(time.time())
    with db.transaction() as cur:
        if not override_holds and _held(db, cur, user_id, now):
            raise SubjectHeld()
        zero = {step: 0 for step in _targets(db, _present(db, cur))}
        cur.execute(lifecycle.query(db, "erasure_create"), {
            "receipt_id": str(uuid.uuid4()), "user_hash": user_hash, "override_holds": override_holds,
            "requested_by": requested_by, "user_id": user_id, "counts": jsonb(zero), "now": now,
            "worker": worker, "lease_until": now + LEASE if worker else None})
        return cur.fetchone()


def receipt(db: Database, receipt_id: str) -> dict | None:
    """The job's row as its receipt shows it, or None. LifecycleMissing without the lifecycle's tables."""
    _check_installed(db)
    return db.read_one("erasure_receipt", {"receipt_id": receipt_id}, **lifecycle.names(db).fragments)


def claim(db: Database, worker: str) -> dict | None:
    """The oldest job no live worker holds, now `worker`'s, or None."""
    now = int(time.time())
    with db.transaction() as cur:
        cur.execute(lifecycle.query(db, "erasure_claim"), {"worker": worker, "now": now, "lease_until": now + LEASE})
        return cur.fetchone()


class LeaseLost(Exception):
    """Another worker took the job over: this one stops, its last batch rolled back."""


Progress = Callable[[str, int, dict[str, int]], None]  # (step, rows just deleted, counts so far)


def run(db: Database, job: dict, worker: str, progress: Progress | None = None) -> dict:
    """Erase the job's user in batches until a whole pass deletes nothing, then end the job; its final row. A job
    that meets a hold it may not override ends `failed` (what was erased stays erased, and counted)."""
    counts = dict(job["counts"] or {})
    try:
        while _pass(db, job, worker, counts, progress):
            pass
    except SubjectHeld:
        return _finish(db, job, worker, "failed", HELD)
    return _finish(db, job, worker, "done", None)


def _pass(db: Database, job: dict, worker: str, counts: dict[str, int],
          progress: Progress | None) -> int:
    """Every step once, each in batches until it finds fewer rows than a batch; the rows deleted."""
    with db.transaction() as cur:
        targets = _targets(db, _present(db, cur))
    deleted = 0
    for step, table in targets.items():
        while True:
            rows = _batch(db, job, worker, step, table)
            if rows:
                counts[step] = counts.get(step, 0) + rows
                deleted += rows
                if progress is not None:
                    progress(step, rows, dict(counts))
            if rows < BATCH:
                break
    return deleted


def _batch(db: Database, job: dict, worker: str, step: str, table: sql.Composable) -> int:
    """One batch of one step in its own transaction, with the job's counts; a batch that waited LOCK_WAIT_MS for a
    writer's row gives way and is tried again after RETRY_AFTER."""
    statement = lifecycle.query(db, "erasure_batch", target=table, condition=_condition(db, step))
    while True:
        now = int(time.time())
        try:
            with db.transaction() as cur:
                cur.execute(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}")
                if job["override_holds"]:  # the opt-in hold trigger lets this transaction delete held sessions
                    cur.execute("SET LOCAL agno_session.override_holds = 'on'")
                if not job["override_holds"] and _held(db, cur, job["user_ref"], now):
                    raise SubjectHeld()
                cur.execute(statement, {**_params(job["user_ref"]), "limit": BATCH})
                rows = cur.rowcount
                cur.execute(lifecycle.query(db, "erasure_progress"),
                            {"step": step, "rows": rows, "lease_until": now + LEASE,
                             "receipt_id": job["receipt_id"], "worker": worker})
                if cur.fetchone() is None:
                    raise LeaseLost()
                return rows
        except StorageError as exc:
            if not isinstance(exc.__cause__, psycopg2.errors.LockNotAvailable):
                raise
        time.sleep(RETRY_AFTER)


def _finish(db: Database, job: dict, worker: str, state: str, error: str | None) -> dict:
    with db.transaction() as cur:
        cur.execute(lifecycle.query(db, "erasure_finish"), {"state": state, "error": error, "now": int(time.time()),
                                                            "receipt_id": job["receipt_id"], "worker": worker})
        row = cur.fetchone()
    if row is None:
        raise LeaseLost()
    return row
