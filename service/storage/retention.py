"""Retention policies applied to agno's tables: which sessions a policy matches (SQL composed from the policy), what
a run would touch (the plan), and the sweep itself in small batches whose transactions never make AgentOS's writers
wait long (rows locked with SKIP LOCKED, every other lock under a short lock_timeout).

A policy's age is the session's last activity (the later of its own update and its latest run's, else its creation)
or its creation; the match reuses the list filter's conditions (type, component, user, metadata). Held sessions are
never touched. What a sweep did no longer matches (archived and deleted sessions are gone, trimmed ones keep at most
the runs they may), so running it again continues where an interrupted one stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from service.core.retention_policies import Policy
from service.storage import lifecycle, sessions
from service.storage.errors import StorageError
from service.storage.list_conditions import metadata_params
from service.storage.pool import Database

LOCK_TIMEOUT_MS = 100  # longest a batch waits for a lock a writer holds: below deadlock_timeout, so it gives way first
ARCHIVED_BY = "retention"
_LAST_ACTIVITY = ("COALESCE(s.updated_at, s.created_at) < %(cutoff)s AND NOT EXISTS (SELECT 1 FROM {runs} r "
                  "WHERE r.session_id = s.session_id AND COALESCE(r.updated_at, r.created_at) >= %(cutoff)s)")
_AGE = {"last_activity": _LAST_ACTIVITY, "created": "s.created_at < %(cutoff)s"}
# more runs than it keeps: a run exists past the first keep_last in agno's read order
_TOO_MANY_RUNS = ("EXISTS (SELECT 1 FROM {runs} r WHERE r.session_id = s.session_id "
                  "ORDER BY r.run_index, r.created_at, r.run_id OFFSET %(keep_last)s LIMIT 1)")
_HELD = "EXISTS (SELECT 1 FROM {holds} h WHERE h.session_id = s.session_id AND (h.until IS NULL OR h.until > %(now)s))"


class RetentionUnavailable(Exception):
    """Retention needs the lifecycle's tables (holds, archive): `agno-session migrate --lifecycle`."""


@dataclass(frozen=True)
class Condition:
    """A policy's match as SQL over `s` (agno's sessions table) and its parameters (names prefixed per policy, so
    several compose into one statement)."""

    text: sql.Composed
    params: dict[str, Any]


def condition(db: Database, policy: Policy, now: int, prefix: str = "") -> Condition:
    """Sessions `policy` matches at `now`: the list filter's conditions, the age, and for trim_runs more runs than
    it keeps; held sessions included (the caller skips them)."""
    where = sessions.list_filter(policy.session_type, policy.user_id is not None, policy.component_id is not None,
                                 False, len(policy.metadata)).string.removeprefix("WHERE ")
    parts = [where] if where else []
    parts.append(_AGE[policy.basis])
    params: dict[str, Any] = {"session_type": policy.session_type, "user_id": policy.user_id,
                              "component_id": policy.component_id, "cutoff": now - policy.after,
                              **metadata_params([list(pair) for pair in policy.metadata])}
    if policy.keep_last is not None:
        parts.append(_TOO_MANY_RUNS)
        params["keep_last"] = policy.keep_last
    text = "(" + "\n  AND ".join(parts) + ")"
    return Condition(sql.SQL(text.replace("%(", f"%({prefix}")).format(runs=db.identifiers["runs"]),
                     {f"{prefix}{k}": v for k, v in params.items()})


def _held(db: Database) -> sql.Composed:
    """Whether an active legal hold keeps session `s` at %(now)s."""
    return sql.SQL(_HELD).format(holds=lifecycle.names(db).fragments["holds"])


def require_lifecycle(db: Database) -> None:
    """RetentionUnavailable unless the holds and the archive exist (a sweep that could not see holds would touch
    held sessions)."""
    if not lifecycle.installed(db):
        raise RetentionUnavailable(f"{db.config.db_id}: retention needs the lifecycle's tables (legal holds, archive):"
                                   " run `agno-session migrate --lifecycle` first")


@dataclass(frozen=True)
class PlannedPolicy:
    """What one policy would do now: sessions and runs it would archive, delete or trim, the held sessions it
    matches and skips, and the first ids it would touch."""

    policy: Policy
    sessions: int
    runs: int
    held: int
    first_ids: list[str]


def plan(db: Database, policies: tuple[Policy, ...], now: int, first: int) -> list[PlannedPolicy]:
    """Each policy's effect, changing nothing. A session an earlier archive or delete policy takes (not held) is not
    counted again for a later one: the sweep runs the policies in order."""
    require_lifecycle(db)
    planned = []
    earlier: list[Condition] = []
    for n, policy in enumerate(policies):
        own = condition(db, policy, now, f"p{n}_")
        matches = sql.Composed([own.text, *(sql.SQL("\n  AND NOT ({} AND NOT {})").format(c.text, _held(db))
                                            for c in earlier)])
        params = {**own.params, **{k: v for c in earlier for k, v in c.params.items()}, "now": now, "first": first,
                  "keep": policy.keep_last or 0}
        row = db.read_one("retention_plan", params, matches=matches, held=_held(db), **lifecycle.names(db).fragments)
        planned.append(PlannedPolicy(policy, row["sessions"], int(row["runs"]), row["held"], row["first_ids"]))
        if policy.removes_sessions:
            earlier.append(own)
    return planned


@dataclass
class Outcome:
    """What a sweep of one policy did: sessions archived or deleted (or trimmed), runs moved or deleted, sessions
    skipped because a hold keeps them or a writer held their rows (a later run takes those)."""

    sessions: int = 0
    runs: int = 0
    held: int = 0
    busy: int = 0
    batches: int = 0
    seen: int = field(default=0)  # candidates read, acted on or skipped: the progress

    def add(self, other: Outcome) -> None:
        for name in ("sessions", "runs", "held", "busy", "batches", "seen"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def sweep(db: Database, policy: Policy, now: int, batch: int, progress: Callable[[Outcome], None] | None = None,
          lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> Outcome:
    """Apply `policy` to every session it matches at `now`, `batch` sessions per transaction, in session id order;
    `progress` hears the running total after each batch. Bounded memory: one batch of ids at a time."""
    require_lifecycle(db)
    total = Outcome()
    for candidates in _batches(db, policy, now, batch):
        done = Outcome(seen=len(candidates), batches=1)
        free = [c["session_id"] for c in candidates if not c["held"]]
        done.held = len(candidates) - len(free)
        if free:
            done.add(_act(db, policy, free, now, lock_timeout_ms))
        total.add(done)
        if progress is not None:
            progress(total)
    return total


def _batches(db: Database, policy: Policy, now: int, batch: int) -> Iterator[list[dict]]:
    """The policy's candidates (with whether a hold keeps each) in id order, one batch per read, each read after the
    last id of the one before: a single pass over the table however many a run acts on."""
    matched = condition(db, policy, now)
    params = {**matched.params, "now": now, "batch": batch, "after": None}
    fragments = {"matches": matched.text, "held": _held(db), **lifecycle.names(db).fragments}
    after = sql.SQL("")
    while True:
        rows = db.read_all("retention_batch", params, after=after, **fragments)
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        params["after"] = rows[-1]["session_id"]
        after = sql.SQL("AND s.session_id > %(after)s")


def _act(db: Database, policy: Policy, session_ids: list[str], now: int, lock_timeout_ms: int) -> Outcome:
    """One batch in one short transaction; when a lock is not granted in time, each session alone (those still
    blocked are left for a later run)."""
    try:
        return _act_in_transaction(db, policy, session_ids, now, lock_timeout_ms)
    except StorageError as exc:
        if not _lock_refused(exc):
            raise
    if len(session_ids) == 1:
        return Outcome(busy=1)
    total = Outcome()
    for session_id in session_ids:
        total.add(_act(db, policy, [session_id], now, lock_timeout_ms))
    return total


def _lock_refused(exc: StorageError) -> bool:
    """A lock not granted within lock_timeout, or a deadlock PostgreSQL broke by cancelling this side."""
    return isinstance(exc.__cause__, (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected))


def _act_in_transaction(db: Database, policy: Policy, session_ids: list[str], now: int,
                        lock_timeout_ms: int) -> Outcome:
    """Lock the sessions that still match (skipping rows a writer holds), drop the held ones, act on the rest."""
    matched = condition(db, policy, now)
    with db.transaction() as cur:
        cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
        cur.execute(db.query("retention_lock", matches=matched.text), {**matched.params, "session_ids": session_ids})
        locked = [row["session_id"] for row in cur.fetchall()]
        held = lifecycle.held_ids(db, cur, locked, now)
        chosen = [session_id for session_id in locked if session_id not in held]
        outcome = Outcome(held=len(held), busy=len(session_ids) - len(locked))
        if not chosen:
            return outcome
        params = {"session_ids": chosen, "keep_last": policy.keep_last or 0}
        if policy.action == "trim_runs":
            cur.execute(db.query("retention_trim"), params)
            outcome.runs = cur.fetchone()["runs"]
            outcome.sessions = len(chosen)
            return outcome
        cur.execute(db.query("retention_runs_of"), params)
        outcome.runs = cur.fetchone()["runs"]
        if policy.action == "archive":
            lifecycle.archive_in(db, cur, chosen, None, ARCHIVED_BY, f"retention policy {policy.name}", now)
        else:
            sessions.delete_in(db, cur, chosen, None)  # AgentOS's cascade, in this transaction
        outcome.sessions = len(chosen)  # locked above: nothing else can have moved or deleted them
        return outcome
