"""Standard Webhooks signatures (standardwebhooks.com): what a receiver checks to know a request came from this
deliverer, unaltered and recent. The signed content is `<webhook-id>.<webhook-timestamp>.<body>`, HMAC-SHA256 with
the subscription's key, sent base64 as `v1,<signature>`."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one request."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers and the content type of one request."""
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(key, message_id, timestamp, body), "content-type": "application/json"}


def retry_delay(failures: int, first: float = 5.0, longest: float = 3600.0) -> float:
    """Seconds before the next attempt after `failures` failed ones: doubling from `first`, at most `longest`
    (5 s, 10 s, 20 s, ... an hour: about 30 attempts in a 24-hour window)."""
    return min(first * 2 ** max(failures - 1, 0), longest)
