"""Sending one webhook request: urllib3's pooled connections, no redirects and no retries of its own (the deliverer
owns retries, with backoff over the whole window), a bounded wait, and the outcome in a line for the queue."""

from __future__ import annotations

from dataclasses import dataclass

import urllib3

from service.rules.webhook_signature import headers

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0  # Standard Webhooks' guidance: receivers answer fast and work later
_ERROR_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    """Whether the receiver accepted the event (a 2xx), and otherwise why not."""

    ok: bool
    error: str = ""


class Sender:
    """Signed POSTs over a pool of keep-alive connections shared by the deliverer's threads."""

    def __init__(self, threads: int) -> None:
        self._http = urllib3.PoolManager(num_pools=64, maxsize=max(threads, 1), retries=False,
                                         timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT))

    def post(self, url: str, key: bytes, message_id: str, timestamp: int, body: bytes) -> Outcome:
        """Send `body` signed for this attempt (its timestamp is the attempt's, so receivers can refuse replays)."""
        try:
            answer = self._http.request("POST", url, body=body, headers=headers(key, message_id, timestamp, body),
                                        redirect=False, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            return Outcome(False, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS])
        if 200 <= answer.status < 300:
            return Outcome(True)
        text = answer.data[:200].decode("utf-8", errors="replace")
        return Outcome(False, f"HTTP {answer.status}: {text}"[:_ERROR_CHARS])

    def close(self) -> None:
        self._http.clear()
