"""What a stream asks for: the long-poll's filters and `events=` patterns (service.rules.validation.parsers, one
parser for both transports), the database, and where to resume (Last-Event-ID, else `after=`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.rules.validation.errors import RequestInvalid
from service.rules.validation.parsers import change_stream_query
from service.rules.validation.query import query_args


@dataclass(frozen=True)
class StreamQuery:
    """A validated stream request; `cursor` is Last-Event-ID when sent (an EventSource's reconnect), else `after`;
    `deferred` the 422s that wait until the database is resolved, as on the long-poll."""

    type: str | None
    component_id: str | None
    user_id: str | None
    session_id: str | None
    events: tuple[str, ...] | None
    cursor: str | None
    db_id: str | None
    deferred: list[dict] = field(default_factory=list)

    def checked(self) -> StreamQuery:
        """This request, or the deferred 422 now (call it once the database is resolved)."""
        if self.deferred:
            raise RequestInvalid(self.deferred)
        return self


def parse(query_string: str, last_event_id: str | None) -> StreamQuery:
    """The stream's request, or RequestInvalid with the long-poll's 422 for the same query."""
    parsed = change_stream_query(query_args(query_string.encode("latin-1", "replace")))
    q = parsed.query
    if last_event_id is not None and not last_event_id.strip():
        last_event_id = None  # an EventSource that never got an id sends none; an empty one is the same
    return StreamQuery(q["session_type"], q["component_id"], q["user_id"], q["session_id"], q["event_types"],
                       last_event_id or q["after"], q["db_id"], parsed.deferred)
