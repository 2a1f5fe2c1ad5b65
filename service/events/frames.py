"""The text/event-stream wire format (WHATWG HTML, "Server-sent events"): what each kind of frame looks like."""

from __future__ import annotations

import orjson

RETRY_MS = 2000  # how long an EventSource waits before reconnecting (it then sends Last-Event-ID)
OPENING = f"retry: {RETRY_MS}\n: agno-session change feed\n\n".encode()
KEEPALIVE = b": keepalive\n\n"


def event_frame(cursor: str, body: dict) -> bytes:
    """One event: `id:` is its cursor (what Last-Event-ID sends back), `data:` its JSON on one line (orjson writes
    no newline), no `event:` field, so EventSource's onmessage receives every type."""
    return b"id: " + cursor.encode("ascii") + b"\ndata: " + orjson.dumps(body) + b"\n\n"


def watermark_frame(cursor: str) -> bytes:
    """A cursor without an event: a client's last event id moves past changes its filters skipped (the dispatch
    with empty data fires no event but keeps the id), so a resume does not read them again, and a quiet stream's
    cursor does not age out of the log."""
    return b"id: " + cursor.encode("ascii") + b"\n\n"
