"""Every non-success answer in one place: which exception becomes which status and AgentOS-shaped body."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, g
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.wrappers import Response

from service.api.responses import error_response
from service.auth.caller import MissingIdentity
from service.core.logs import LOGGER
from service.rules.changes import UNAVAILABLE as CHANGES_UNAVAILABLE
from service.rules.errors import ApiError
from service.rules.lifecycle import HELD, UNAVAILABLE, id_taken
from service.rules.validation.errors import RequestInvalid
from service.storage.changes import ChangesMissing
from service.storage.errors import (
    DatabaseUnavailable,
    HeldInDatabase,
    StorageError,
    StorageTimeout,
    TablesMissing,
    ValueNotStorable,
)
from service.storage.lifecycle import LifecycleMissing, SessionExists, SessionHeld

log = logging.getLogger(LOGGER)
Handler = Callable[[Exception], Response]


def install(app: Flask, max_body_bytes: int) -> None:
    """Register the handlers; more specific exception classes win, as Flask looks them up by MRO. Each notes the
    class of what it answers in `g.error_class` (the errors counter of api/metrics.py)."""

    def handles(*classes: type[Exception]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            def answer(exc: Exception) -> Response:
                g.error_class = type(exc).__name__
                return handler(exc)

            for exc_class in classes:
                app.register_error_handler(exc_class, answer)
            return handler

        return register

    @handles(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.detail, exc.headers)

    @handles(LifecycleMissing)
    def lifecycle_missing(exc: LifecycleMissing) -> Response:
        return error_response(503, UNAVAILABLE)

    @handles(ChangesMissing)
    def changes_missing(exc: ChangesMissing) -> Response:
        return error_response(503, CHANGES_UNAVAILABLE)

    @handles(SessionHeld, HeldInDatabase)
    def held(exc: Exception) -> Response:
        return error_response(409, HELD)

    @handles(SessionExists)
    def id_reused(exc: SessionExists) -> Response:
        return error_response(409, id_taken(exc.session_id))

    @handles(MissingIdentity)
    def no_identity(exc: MissingIdentity) -> Response:
        return error_response(403, str(exc))

    @handles(RequestInvalid)
    def invalid(exc: RequestInvalid) -> Response:
        return error_response(422, exc.errors)

    @handles(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Response:
        return error_response(413, f"Request body is larger than {max_body_bytes} bytes")

    @handles(HTTPException)
    def routing(exc: HTTPException) -> Response:
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = _allowed(exc.valid_methods)
        return error_response(exc.code or 500, exc.name, headers)

    @handles(StorageTimeout)
    def timed_out(exc: StorageTimeout) -> Response:
        log.warning("request timed out", extra={"fields": {"request_id": g.get("request_id"), "db_id": exc.db_id,
                                                           "error": exc.message}})
        return error_response(504, "Request timed out")

    @handles(ValueNotStorable)
    def unstorable(exc: ValueNotStorable) -> Response:
        # The transaction was rolled back, nothing changed. Validation cannot know these limits in advance.
        return error_response(422, f"Value cannot be stored: {exc.message}")

    @handles(TablesMissing)
    def missing_tables(exc: TablesMissing) -> Response:
        return error_response(503, f"Session tables are missing in database '{exc.db_id}': run agno-session migrate")

    @handles(DatabaseUnavailable)
    def unavailable(exc: DatabaseUnavailable) -> Response:
        log.error("database unavailable", extra={"fields": {"db_id": exc.db_id, "error": exc.message}})
        return error_response(503, f"Database '{exc.db_id}' is unavailable")

    @handles(StorageError, Exception)
    def unhandled(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"fields": {"request_id": g.get("request_id")}})
        cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ is not None else exc
        response = error_response(500, f"Internal server error ({type(cause).__name__})")
        response.cors_done = True  # type: ignore[attr-defined]  # AgentOS's 500s carry no CORS/vary headers
        return response


def _allowed(methods: list[str] | set[str]) -> str:
    """Starlette's Allow header names the first route's methods; GET routes come first on every path."""
    listed = [m for m in ("GET", "POST", "PATCH", "DELETE") if m in methods]
    return listed[0] if listed else ", ".join(sorted(methods))
