"""What a route reads from its request: the parsed query and body, and the database they name."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from service.api.auth import current_caller
from service.api.databases import resolve_db
from service.rules.validation.errors import RequestInvalid
from service.rules.validation.outcome import Parsed
from service.rules.validation.query import query_args
from service.rules.validation.storable import path_errors
from service.storage.pool import Database


def parsed_query(parser: Callable[[MultiDict], Parsed]) -> Parsed:
    """The query string decoded the way Starlette decodes it, then parsed (FastAPI's 422 raised at once)."""
    return parser(query_args(request.query_string))


def parsed_request(parser: Callable[[MultiDict, bytes, str | None], Parsed]) -> Parsed:
    """Query and body of a route with a body, parsed with errors in FastAPI's order."""
    raw = read_body(current_app.config["SETTINGS"].max_body_bytes)
    return parser(query_args(request.query_string), raw, request.headers.get("Content-Type"))


def request_database(parsed: Parsed, session_id: str | None = None) -> Database:
    """The request's database, then the 422s `parsed` holds back: AgentOS answers a bad db_id or table (400/404)
    first and would meet these only later, with a 500. A NUL in the path's session_id is listed first. A GET reads
    from the database's replica when it has one (HEAD is 405, as in AgentOS); any other method reads and writes the
    primary."""
    db = resolve_db(current_app.config["SETTINGS"], current_app.config["REGISTRY"], parsed.query["db_id"],
                    parsed.query.get("table"), current_caller(), read_only=request.method == "GET")
    g.db_id = db.config.db_id  # for the access log
    errors = path_errors(session_id) + parsed.deferred
    if errors:
        raise RequestInvalid(errors)
    return db


def read_body(limit: int) -> bytes:
    """The request body, or 413 when it is larger than `limit` bytes (Content-Length was checked up front)."""
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise RequestEntityTooLarge()
    return raw
