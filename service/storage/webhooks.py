"""The webhook deliverer's side tables (`agno-session migrate --webhooks`): each subscription's feed position, the
queue of events read but not yet delivered, and the dead letters; named from the sessions table like the others.

Reading the feed and queueing what was read commit together with the new position, so an event is queued exactly
once however often the deliverer stops; an event leaves the queue when its receiver accepted it or when it is
dead-lettered, and a session's later event is never tried before its earlier one is gone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from psycopg2 import sql

from service.storage.counts import derived_name
from service.storage.pool import Database
from service.storage.schema import table_exists

_TABLES = ("cursors", "queue", "dead")


@dataclass(frozen=True)
class WebhookNames:
    """What the webhook tables of one sessions table are called."""

    tables: tuple[str, ...]  # cursors, queue, dead letters
    regclass: str  # the cursors table, which migrate's lock is taken on
    fragments: dict[str, sql.Composable]


@cache
def _names(schema: str, session_table: str) -> WebhookNames:
    tables = tuple(derived_name(session_table, f"webhook_{t}") for t in ("cursors", "queue", "dead_letters"))
    fragments: dict[str, sql.Composable] = {k: sql.Identifier(schema, t) for k, t in zip(_TABLES, tables, strict=True)}
    fragments["queue_order"] = sql.Identifier(derived_name(session_table, "webhook_queue_order"))
    fragments["queue_due"] = sql.Identifier(derived_name(session_table, "webhook_queue_due"))
    return WebhookNames(tables, f'"{schema}"."{tables[0]}"', fragments)


def names(db: Database) -> WebhookNames:
    """What `db`'s webhook tables are called."""
    return _names(db.config.schema, db.config.session_table)


def query(db: Database, name: str) -> sql.Composed:
    """`sql/<name>.sql` composed with the webhook tables' names."""
    return db.query(name, **names(db).fragments)


def installed(db: Database) -> bool:
    """Whether all three tables exist (`agno-session check`, and deliver before it starts)."""
    return all(table_exists(db, t) for t in names(db).tables)


@dataclass(frozen=True)
class Queued:
    """One event to queue for a subscription: the id receivers dedupe on, its session and the exact body sent."""

    message_id: str
    session_id: str
    body: str


@dataclass(frozen=True)
class Attempt:
    """An event due for delivery."""

    id: int
    subscription: str
    message_id: str
    session_id: str
    body: str
    attempts: int  # failed attempts so far
    first_attempt_at: float | None


def positions(db: Database, subscriptions: list[str]) -> dict[str, str]:
    """The saved feed position of each subscription that has one."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_positions"), {"subscriptions": subscriptions})
        return {row["subscription"]: row["position"] for row in cur.fetchall()}


def enqueue(db: Database, subscription: str, events: Iterable[Queued], position: str, now: float) -> None:
    """Queue `events` and move the subscription's position to `position`, in one transaction."""
    with db.transaction() as cur:
        for event in events:
            cur.execute(query(db, "webhooks_enqueue"), {"subscription": subscription, "message_id": event.message_id,
                                                        "session_id": event.session_id, "body": event.body,
                                                        "now": now})
        cur.execute(query(db, "webhooks_advance"), {"subscription": subscription, "position": position})


def due(db: Database, subscriptions: list[str], now: float, limit: int) -> list[Attempt]:
    """The events ready now, at most one per session and subscription, in feed order."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_due"), {"subscriptions": subscriptions, "now": now, "limit": limit})
        return [Attempt(**row) for row in cur.fetchall()]


def delivered(db: Database, attempt: Attempt) -> None:
    """The receiver accepted it: it leaves the queue."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_delivered"), {"id": attempt.id})


def retry(db: Database, attempt: Attempt, now: float, next_at: float, error: str) -> None:
    """A failed attempt, to be tried again at `next_at`."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_retry"), {"id": attempt.id, "now": now, "next": next_at, "error": error})


def dead_letter(db: Database, attempt: Attempt, now: float, error: str) -> None:
    """The retry window is over: out of the queue, into the dead letters."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_dead_letter"), {"id": attempt.id, "now": now, "error": error})


def dead_letters(db: Database, subscription: str | None, limit: int) -> list[dict]:
    """The dead letters, oldest first."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_dead_letters"), {"subscription": subscription, "limit": limit})
        return [dict(row) for row in cur.fetchall()]


def replay(db: Database, ids: list[int] | None, subscription: str | None, now: float) -> int:
    """Dead letters back in the queue (all of them with `ids` None); how many went back."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_replay"), {"ids": ids, "subscription": subscription, "now": now})
        return len(cur.fetchall())


def backlog(db: Database, subscriptions: list[str], now: float) -> dict[str, tuple[int, float]]:
    """Per subscription: events waiting, and the seconds the oldest has waited."""
    with db.transaction() as cur:
        cur.execute(query(db, "webhooks_backlog"), {"subscriptions": subscriptions, "now": now})
        return {row["subscription"]: (row["queued"], row["lag"]) for row in cur.fetchall()}
