"""The one way every route answers: AgentOS's JSON bytes for successes and its error envelope for failures."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from service.core.json_codec import dumps
from service.rules.etags import quoted
from service.rules.extensions import APPLIED_HEADER

JSON = "application/json"


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


def with_applied(response: Response, names: list[str]) -> Response:
    """Extension rule: an answer names the extension parameters that took effect; with none, no header is added
    (AgentOS's headers exactly)."""
    if names:
        response.headers[APPLIED_HEADER] = ",".join(names)
    return response


def with_etag(response: Response, tag: str) -> Response:
    """A detail-shaped answer carrying its session's entity tag (extension `preconditions`)."""
    response.headers["ETag"] = quoted(tag)
    return response


def not_modified(tag: str) -> Response:
    """304 for a matching If-None-Match: no body, no content type, the tag kept."""
    response = Response(status=304)
    response.headers.pop("Content-Type", None)
    return with_etag(response, tag)
