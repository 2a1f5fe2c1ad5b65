"""The one way every route answers: AgentOS's JSON bytes for successes and its error envelope for failures."""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response

JSON = "application/json"


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
        return orjson.dumps(_big_ints_verbatim(body))


def _big_ints_verbatim(value: Any) -> Any:
    """orjson refuses integers beyond 64 bits; hand them over as ready-made JSON fragments."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {k: _big_ints_verbatim(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_big_ints_verbatim(v) for v in value]
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
