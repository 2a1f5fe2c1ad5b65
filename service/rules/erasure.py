"""Erasure receipts (extension `erasure`): which user a receipt is about, as a keyed hash an operator can recompute
but nobody without the deployment's key can reverse, and what a receipt shows (never the raw user id)."""

from __future__ import annotations

import hashlib
import hmac
import re

HELD = "Session is under legal hold"
NO_KEY = ("Erasure needs AGNO_ERASURE_KEY (the secret receipts' user hashes are keyed with); set it on the service, "
          "or run `agno-session erase` where it is set")
RECEIPT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RECEIPT_KEYS = ("receipt_id", "state", "user_hash", "counts", "started_at", "finished_at")


def user_hash(key: bytes, user_id: str) -> str:
    """HMAC-SHA256 of the user id's UTF-8 bytes under the erasure key, hex: the same user always gives the same
    hash under one key (`printf %s "$USER_ID" | openssl dgst -sha256 -hmac "$AGNO_ERASURE_KEY"` recomputes it)."""
    return hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def receipt(row: dict) -> dict:
    """A job as GET /sessions/-/erasures/{receipt_id} shows it: its state and counts so far, and once done the
    receipt; `error` only for a failed job."""
    shown = {key: row[key] for key in RECEIPT_KEYS}
    shown["counts"] = dict(row["counts"] or {})
    if row["state"] == "failed":
        shown["error"] = row["error"]
    return shown


def requester(scope: str, user_id: str) -> str:
    """Who asked, as the job row keeps it: the caller's scope, but never the erased user's own id."""
    return "self" if scope == f"sub:{user_id}" else scope
