"""agno-session: AgentOS's /sessions API as an independent service over agno's PostgreSQL tables."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import psycopg2
import psycopg2.errors
from flask import Flask, g
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from service.config import Settings, load_settings
from service.db import PoolTimeout, Registry
from service.logs import LOGGER, configure_logging
from service.responses import ApiError, error_response

log = logging.getLogger(LOGGER)


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: settings (from the environment by default) → a ready WSGI app."""
    from service import middleware
    from service.api import health, sessions, spec, state
    from service.embedded import with_embedded_dsn
    from service.schemas import RequestInvalid

    settings = with_embedded_dsn(settings or load_settings())
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.url_map.merge_slashes = False  # `//` (e.g. a %2F-leading id) matches no route, as in AgentOS; no redirect
    app.config.update(
        SETTINGS=settings,
        REGISTRY=Registry(settings.databases, settings.pool_max, settings.request_timeout),
        INSTANTIATED_AT=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
    )
    app.register_blueprint(health.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(state.bp)
    app.register_blueprint(spec.bp)
    middleware.install(app, settings)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.detail, exc.headers)

    @app.errorhandler(RequestInvalid)
    def invalid(exc: RequestInvalid) -> Response:
        return error_response(422, exc.errors)

    @app.errorhandler(HTTPException)
    def routing(exc: HTTPException) -> Response:
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = _allowed(exc.valid_methods)
        return error_response(exc.code or 500, exc.name, headers)

    @app.errorhandler(psycopg2.errors.QueryCanceled)
    @app.errorhandler(PoolTimeout)
    def timed_out(exc: Exception) -> Response:
        log.warning("request timed out", extra={"fields": {"request_id": g.get("request_id"), "error": str(exc)}})
        return error_response(504, "Request timed out")

    @app.errorhandler(psycopg2.errors.ProgramLimitExceeded)
    @app.errorhandler(psycopg2.errors.NumericValueOutOfRange)
    @app.errorhandler(psycopg2.errors.CharacterNotInRepertoire)
    @app.errorhandler(psycopg2.errors.UntranslatableCharacter)
    def unstorable(exc: psycopg2.Error) -> Response:
        # A value PostgreSQL refuses to store (an id too large for its index, a number out of range): the
        # transaction was rolled back, nothing changed. Validation cannot know these limits in advance.
        return error_response(422, f"Value cannot be stored: {exc.diag.message_primary or type(exc).__name__}")

    @app.errorhandler(psycopg2.errors.UndefinedTable)
    def missing_tables(exc: Exception) -> Response:
        detail = f"Session tables are missing in database '{g.get('db_id')}': run agno-session migrate"
        return error_response(503, detail)

    @app.errorhandler(psycopg2.OperationalError)
    def unavailable(exc: Exception) -> Response:
        log.error("database unavailable", extra={"fields": {"db_id": g.get("db_id"), "error": str(exc)}})
        return error_response(503, f"Database '{g.get('db_id')}' is unavailable")

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"fields": {"request_id": g.get("request_id")}})
        response = error_response(500, f"Internal server error ({type(exc).__name__})")
        response.cors_done = True  # type: ignore[attr-defined]  # AgentOS's 500s carry no CORS/vary headers
        return response

    app.wsgi_app = middleware.AgentOSStatusLine(  # type: ignore[method-assign]
        middleware.StripTrailingSlash(app.wsgi_app))
    return app


def _allowed(methods: list[str] | set[str]) -> str:
    """Starlette's Allow header names the first route's methods; GET routes come first on every path."""
    listed = [m for m in ("GET", "POST", "PATCH", "DELETE") if m in methods]
    return listed[0] if listed else ", ".join(sorted(methods))
