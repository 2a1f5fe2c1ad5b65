"""The one way every route answers: AgentOS's JSON bytes for successes and its error envelope for failures."""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson
from flask import Response

JSON = "application/json"
# Values nest as deep as AgentOS decodes them (959 levels): walking, rendering and encoding them recursively
# needs more than Python's default 1000 frames.
RECURSION_LIMIT = 4000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)


class ApiError(Exception):
    """An answer other than success, in AgentOS's `{"detail": ...}` envelope."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON byte-identical to pydantic-core's (orjson formats floats the same way)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return orjson.dumps(_verbatim(body, 0))


_CHUNK = 128  # orjson refuses to nest deeper than 254 levels; deeper values are encoded a chunk at a time


def _verbatim(value: Any, level: int) -> Any:
    """What orjson refuses, handed over as ready-made JSON fragments: integers beyond 64 bits and the parts of
    a value nested deeper than orjson's limit (pydantic-core answers up to 255 levels)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return orjson.Fragment(str(value))
    if isinstance(value, (dict, list)) and level >= _CHUNK:
        return orjson.Fragment(dumps(value))
    if isinstance(value, dict):
        return {k: _verbatim(v, level + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_verbatim(v, level + 1) for v in value]
    return value


def json_response(body: Any, status: int = 200) -> Response:
    """A success answer from already-ordered dicts and lists."""
    return Response(dumps(body), status=status, content_type=JSON)


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    """An error answer rendered like Starlette's JSONResponse (stdlib json, non-ASCII kept)."""
    text = json.dumps({"detail": detail}, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    response = Response(text.encode("utf-8"), status=status, content_type=JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def no_content() -> Response:
    """204 as AgentOS sends it: empty body yet still labelled application/json."""
    response = Response(b"", status=204, content_type=JSON)
    response.headers.pop("Content-Length", None)
    return response
