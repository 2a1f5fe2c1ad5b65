"""Opaque paging cursors: a position sealed with an HMAC and bound to the query it pages, so a cursor that was
altered, truncated or replayed on another query is a clear 400, never a wrong page or a 500."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any

from service.rules.errors import ApiError

MAX_CURSOR_CHARS = 1024  # far above any position this service seals; longer input is refused unread
_MAC_BYTES = 16  # HMAC-SHA256 truncated to 128 bits: forging one is still 2**128 guesses
_VERSION = 1
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class CursorInvalid(ApiError):
    """A cursor this service did not seal (malformed, truncated, altered, or sealed under another key)."""

    def __init__(self) -> None:
        super().__init__(400, "Invalid cursor")


class CursorMismatch(ApiError):
    """A genuine cursor replayed on a different query (another session, filter or sort)."""

    def __init__(self) -> None:
        super().__init__(400, "Cursor does not match the query")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode("ascii")


def _query_digest(kind: str, binding: Any) -> str:
    """What the cursor is bound to, as a short digest: the kind of cursor and the query's identity."""
    return _b64(hashlib.sha256(_canonical([kind, binding])).digest()[:12])


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def seal(kind: str, binding: Any, position: dict[str, Any], key: bytes) -> str:
    """A URL-safe token holding `position`, bound to (`kind`, `binding`): `<base64url JSON>.<base64url MAC>`."""
    body = _canonical([_VERSION, _query_digest(kind, binding), position])
    return f"{_b64(body)}.{_b64(_mac(key, body))}"


def unseal(token: str, kind: str, binding: Any, key: bytes) -> dict[str, Any]:
    """The position `seal` put in `token`; CursorInvalid unless this service sealed it under `key`, CursorMismatch
    when it was sealed for another query. The caller still checks the position's values (they are data)."""
    if not isinstance(token, str) or len(token) > MAX_CURSOR_CHARS or not _SHAPE.fullmatch(token):
        raise CursorInvalid()
    body_part, mac_part = token.split(".")
    try:
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (binascii.Error, ValueError):
        raise CursorInvalid() from None
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise CursorInvalid()
    try:
        version, digest, position = json.loads(body)
    except (ValueError, TypeError):
        raise CursorInvalid() from None
    if version != _VERSION or not isinstance(position, dict):
        raise CursorInvalid()
    if not hmac.compare_digest(str(digest), _query_digest(kind, binding)):
        raise CursorMismatch()
    return position
