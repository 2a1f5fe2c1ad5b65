"""A request's deadline, per thread: pool waits and statement timeouts get the time the request has left, so
AGNO_REQUEST_TIMEOUT bounds the request, not each step of it."""

from __future__ import annotations

import threading
import time

_state = threading.local()  # gthread serves one request per thread at a time


def start(seconds: float) -> None:
    """The request served on this thread must be done within `seconds` from now."""
    _state.at = time.monotonic() + seconds


def clear() -> None:
    """No deadline on this thread (the request is over; library and CLI calls have none)."""
    _state.at = None


def remaining(default: float | None) -> float | None:
    """Seconds left before this thread's deadline (≤ 0 once passed), or `default` when there is none."""
    at = getattr(_state, "at", None)
    return default if at is None else at - time.monotonic()
