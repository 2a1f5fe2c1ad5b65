"""The change log as the event process reads it: the storage reader and the feed's rules (service.storage.changes,
service.rules.changes) behind the few calls the hub and the streams make."""

from __future__ import annotations

from typing import Any

import orjson

from service.auth.caller import Caller
from service.events.frames import event_frame
from service.events.stream_query import StreamQuery
from service.events.stream_query import parse as parse_query
from service.rules import changes as rules
from service.rules.errors import ApiError
from service.storage import changes
from service.storage.changes import ChangeFilters, Page, Position
from service.storage.changes import ChangesMissing as FeedUnavailable
from service.storage.pool import Database

UNAVAILABLE = rules.UNAVAILABLE
EVERYTHING = ChangeFilters()

__all__ = ["FeedUnavailable", "Page", "parse_query"]


def head(db: Database) -> Position:
    return changes.head(db)


def read(db: Database, after: Position, limit: int, filters: ChangeFilters) -> Page:
    """One page after `after`; a cursor older than the log is 410 (checked here, where a resume starts, by the
    read's own statement); FeedUnavailable without the log."""
    try:
        return changes.read(db, after, limit, filters, resuming=True)
    except changes.CursorGone:
        raise ApiError(410, rules.GONE) from None


def poll(db: Database, after: Position, limit: int) -> Page:
    """The poller's read: every change (each stream applies its own filters to what is offered), in one
    statement; the poller's own position never falls behind the log."""
    return changes.read(db, after, limit, EVERYTHING)


def filters(asked: StreamQuery, caller: Caller) -> ChangeFilters:
    """The stream's filters; a caller scoped by JWT isolation gets its own id as owner and user filter, whatever it
    asked (as everywhere in the service), so it sees only its own sessions' changes."""
    owner = caller.owner(None) if caller.isolated else None
    return ChangeFilters(asked.type, asked.component_id, caller.owner(asked.user_id), asked.session_id, asked.events,
                         owner)


def accepts(wanted: ChangeFilters, event: dict[str, Any]) -> bool:
    """Whether a change the poller read passes a stream's filters (what changes_read.sql applies in the database)."""
    return ((wanted.events is None or event["op"] in wanted.events)
            and (wanted.type is None or event["session_type"] == wanted.type)
            and (wanted.component_id is None or event["component_id"] == wanted.component_id)
            and (wanted.user_id is None or event["user_id"] == wanted.user_id)
            and (wanted.owner is None or event["user_id"] == wanted.owner)
            and (wanted.session_id is None or event["session_id"] == wanted.session_id))


def binding(db: Database, wanted: ChangeFilters) -> list[Any]:
    """What the stream's cursors are bound to: the long-poll's binding, so a cursor works on either transport."""
    return rules.binding([db.config.db_id, db.config.schema, db.config.session_table], wanted.as_json())


def seal(position: Position, bound: list[Any], key: bytes) -> str:
    return rules.seal(position, bound, key)


def unseal(cursor: str, bound: list[Any], key: bytes) -> Position:
    return Position(*rules.unseal(cursor, bound, key))


def position(event: dict[str, Any]) -> Position:
    return event["position"]


def at_ms(event: dict[str, Any]) -> float:
    """When the change was written, in epoch milliseconds."""
    return float(event["at"])


def frame(event: dict[str, Any], db_id: str, bound: list[Any], key: bytes) -> bytes:
    """The SSE frame of one change for a stream bound to `bound`: the long-poll's event JSON, its cursor as `id:`."""
    cursor = seal(event["position"], bound, key)
    return event_frame(cursor, rules.event(event, db_id, cursor))


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
