"""What a stream asks for: the list's filters, `events=` patterns, the database, and where to resume (Last-Event-ID,
else `after=`), validated into FastAPI-shaped 422s before the stream starts."""

from __future__ import annotations

from dataclasses import dataclass

from service.rules.agno import SESSION_TYPES
from service.rules.changes import event_types
from service.rules.validation.errors import RequestInvalid, error
from service.rules.validation.fields import Choice, Model, Text
from service.rules.validation.query import query_args, validate_query


class EventsQuery(Model):
    """GET /sessions/-/events: the change feed's filters (as on GET /sessions/-/changes) and `after`."""

    session_type = Choice(SESSION_TYPES, data_key="type")
    component_id = Text()
    user_id = Text()
    session_id = Text()
    events = Text()
    after = Text()
    db_id = Text()


@dataclass(frozen=True)
class StreamQuery:
    """A validated stream request; `cursor` is Last-Event-ID when sent (an EventSource's reconnect), else `after`."""

    type: str | None
    component_id: str | None
    user_id: str | None
    session_id: str | None
    events: tuple[str, ...] | None
    cursor: str | None
    db_id: str | None


_MODEL = EventsQuery()


def parse(query_string: str, last_event_id: str | None) -> StreamQuery:
    """The stream's request, or RequestInvalid listing every problem (query first, then the header)."""
    outcome = validate_query(_MODEL, query_args(query_string.encode("latin-1", "replace")),
                             ("component_id", "user_id", "session_id", "db_id"))
    errors = outcome.errors + outcome.deferred
    q = outcome.value
    events = None
    if q.get("events") is not None:
        try:
            events = event_types(q["events"])
        except ValueError as exc:
            errors.append(error("value_error", ("query", "events"), f"Value error, unknown event type pattern: {exc}",
                                q["events"]))
    if last_event_id is not None and not last_event_id.strip():
        last_event_id = None  # an EventSource that never got an id sends none; an empty one is the same
    if errors:
        raise RequestInvalid(errors)
    return StreamQuery(q.get("session_type"), q.get("component_id"), q.get("user_id"), q.get("session_id"), events,
                       last_event_id or q.get("after"), q.get("db_id"))
