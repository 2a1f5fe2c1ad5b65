"""What the deliverer reads from the change feed for one subscription: the changes after its saved position that
match its filters, each as the exact body its receiver gets, and the position to save with them."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson

from service.core.config import ConfigError
from service.core.logs import LOGGER
from service.core.webhook_subscriptions import SETTING, Subscription
from service.rules import changes as rules
from service.storage import changes
from service.storage.pool import Database
from service.storage.webhooks import Queued

log = logging.getLogger(LOGGER)


@dataclass(frozen=True)
class Batch:
    """Changes read for a subscription and the position after them (also when none matched)."""

    events: list[Queued]
    position: str
    more: bool = False  # more changes were already waiting past the position


def filters(subscription: Subscription) -> changes.ChangeFilters:
    """The subscription's filters as the change feed takes them; ConfigError naming its line when an event pattern
    names no event type."""
    try:
        types = rules.event_types(",".join(subscription.events)) if subscription.events else None
    except ValueError as exc:
        raise ConfigError(f"{SETTING}, line {subscription.line}: subscription {subscription.name!r}: `events` "
                          f"pattern {exc} names none of {', '.join(rules.EVENT_TYPES)}") from None
    return changes.ChangeFilters(type=subscription.type, component_id=subscription.component_id,
                               user_id=subscription.user_id, session_id=subscription.session_id, events=types)


def position_text(position: changes.Position) -> str:
    """How a position is saved: `txid:seq`."""
    return f"{position.txid}:{position.seq}"


def parse_position(text: str) -> changes.Position:
    txid, seq = text.split(":")
    return changes.Position(int(txid), int(seq))


def message_id(db_id: str, position: changes.Position) -> str:
    """The event's id, unique across the databases a receiver may hear from and the same on every retry: what
    receivers deduplicate on (`webhook-id`, and `data.id` in the body)."""
    return f"evt_{hashlib.sha256(db_id.encode()).hexdigest()[:8]}_{position.txid}_{position.seq}"


def read(db: Database, subscription: Subscription, saved: str | None, limit: int) -> Batch:
    """The next changes for `subscription` after `saved` (a new subscription starts at the head: later changes
    only). A position older than the log (the deliverer was stopped longer than AGNO_CHANGES_RETENTION) resumes at
    the oldest change kept, with an error in the log: the receiver missed changes and must resynchronise."""
    if saved is None:
        return Batch([], position_text(changes.head(db)))
    after = parse_position(saved)
    try:
        page = changes.read(db, after, limit, filters(subscription), resuming=True)
    except changes.CursorGone:  # read on without the check: from the oldest change kept, what was before is gone
        log.error("webhook subscription fell behind the change log: changes were pruned before delivery; its "
                  "receiver must resynchronise", extra={"fields": {"db_id": db.config.db_id,
                                                                   "subscription": subscription.name,
                                                                   "position": saved}})
        page = changes.read(db, after, limit, filters(subscription))
    events = []
    for row in page.events:
        identity = message_id(db.config.db_id, row["position"])
        data = rules.event(row, db.config.db_id, identity)
        at = datetime.fromtimestamp(data["at"] / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
        body = orjson.dumps({"type": data["type"], "timestamp": at.replace("+00:00", "Z"), "data": data}).decode()
        events.append(Queued(identity, row["session_id"], body))
    return Batch(events, position_text(page.next), page.has_more)
