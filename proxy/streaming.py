"""What the proxy streams: every answer it will not compare, and a bounded copy of those it may compare."""

from __future__ import annotations

import logging

EVENT_STREAM = "text/event-stream"


class BoundedCopy:
    """mitmproxy's `flow.response.stream` callable: passes each chunk on as it arrives and keeps a copy of the
    first `limit` bytes for the comparison; past the limit it keeps nothing more and says so."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._chunks: list[bytes] = []

    def __call__(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if chunk and self.size <= self.limit:
            self._chunks.append(chunk)
        elif self.size > self.limit:
            self._chunks.clear()
        return chunk

    @property
    def overflowed(self) -> bool:
        return self.size > self.limit

    def body(self) -> bytes:
        """The bytes as sent by the upstream (still content-encoded)."""
        return b"".join(self._chunks)


def is_event_stream(content_type: str | None) -> bool:
    """Server-sent events (AgentOS streams agent runs so): never held back, never compared."""
    return (content_type or "").split(";", 1)[0].strip().lower() == EVENT_STREAM


class ConnectionChatter(logging.Filter):
    """Drops mitmproxy's info lines per connection and per streamed answer, which say nothing an operator needs."""

    QUIET = ("client connect", "client disconnect", "server connect", "server disconnect", "Streaming response")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(message.startswith(q) for q in self.QUIET)


def quiet_connection_logs() -> None:
    """Installs the filter on mitmproxy's proxy-server logger, once."""
    logger = logging.getLogger("mitmproxy.proxy.server")
    if not any(isinstance(f, ConnectionChatter) for f in logger.filters):
        logger.addFilter(ConnectionChatter())
