"""The Idempotency-Key header's rules (draft-ietf-httpapi-idempotency-key-header; extension `idempotency-keys`):
which keys are valid, and what makes two requests the same request."""

from __future__ import annotations

import hashlib
import json
import re

import orjson

from service.rules.extensions import IDEMPOTENCY_HEADER as HEADER
from service.rules.extensions import REPLAYED_HEADER
from service.rules.validation.errors import RequestInvalid, error

MAX_KEY = 255
REUSED = "Idempotency-Key reused with a different request"
IN_PROGRESS = "A request with this Idempotency-Key is in progress"
UNAVAILABLE = "Idempotency keys are not available on this database"
_LOC = ("header", "idempotency-key")
_KEY = re.compile(r"^[!-~]([ -~]*[!-~])?$")
# The answer's headers a replay repeats: the ones the route set (the middleware adds its own to every answer).
NOT_REPLAYED = {"content-length"}


def parsed_key(raw: str) -> str:
    """The key a header value names: 1 to MAX_KEY printable ASCII characters, not starting or ending with a space;
    in quotes it is a Structured Field string (the draft's form, `"..."` with `\\"` and `\\\\` escapes) whose content is
    the key, bare it is the key as many clients send it. Anything else is FastAPI's 422 (openapi.yaml states the
    same set as a pattern, so the fuzzer's valid keys are accepted and its invalid ones refused)."""
    if raw in ("", '""'):
        raise RequestInvalid([error("string_too_short", _LOC, "String should have at least 1 character", raw,
                                    {"min_length": 1})])
    if len(raw) > MAX_KEY:
        raise RequestInvalid([error("string_too_long", _LOC, f"String should have at most {MAX_KEY} characters",
                                    raw, {"max_length": MAX_KEY})])
    if not _KEY.fullmatch(raw):
        raise RequestInvalid([error("string_pattern_mismatch", _LOC, f"String should match pattern '{_KEY.pattern}'",
                                    raw, {"pattern": _KEY.pattern})])
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return raw


def fingerprint(method: str, path: str, query: list[tuple[str, str]], body: bytes) -> str:
    """What identifies a request under one key: method, path, query parameters (in any order) and the body as JSON
    means it (key order and spacing aside; bytes as sent when it is not JSON orjson reads)."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except (orjson.JSONDecodeError, TypeError):
        canonical = body
    head = json.dumps([method, path, sorted(query)], ensure_ascii=True).encode("ascii")
    return hashlib.sha256(head + b"\n" + canonical).hexdigest()


def caller_scope(user_id: str | None, authenticated: bool) -> str:
    """Whose keys these are: the token's `sub`, else the holder of the deployment's credentials (the security key, a
    token without `sub`), else anyone (a service without authentication)."""
    if user_id:
        return f"sub:{user_id}"
    return "key" if authenticated else "anonymous"


__all__ = ["HEADER", "IN_PROGRESS", "MAX_KEY", "REPLAYED_HEADER", "REUSED", "UNAVAILABLE", "caller_scope",
           "fingerprint", "parsed_key"]
