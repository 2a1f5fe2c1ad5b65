"""Per-request plumbing: request ids, access log, bearer auth and CORS, as AgentOS's middleware stack does them."""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus

from flask import Flask, Response, g, request
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge

from service.api.auth import AuthDenied, authenticate
from service.api.responses import error_response
from service.auth.caller import UNRESTRICTED
from service.auth.gate import key_refusal
from service.core.config import Settings
from service.core.logs import LOGGER
from service.storage import deadline

OPEN_PATHS = {"/", "/health", "/healthz", "/readyz", "/info", "/docs", "/redoc", "/openapi.json", "/openapi.yaml",
              "/docs/oauth2-redirect", "/metrics"}
CORS_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_id_prefix = [secrets.token_hex(8)]
_ids = itertools.count()
os.register_at_fork(after_in_child=lambda: _id_prefix.__setitem__(0, secrets.token_hex(8)))  # gunicorn's workers


def _new_request_id() -> str:
    """32 hex digits, unique across processes and restarts: 64 random bits drawn per process (again in each forked
    worker), then a counter (a uuid4 per request read the kernel's random source on every request)."""
    return f"{_id_prefix[0]}{next(_ids) & 0xFFFFFFFFFFFFFFFF:016x}"


log = logging.getLogger(LOGGER)


class StripTrailingSlash:
    """WSGI wrapper: `/sessions/` routes like `/sessions`, as AgentOS strips the slash before routing."""

    def __init__(self, app: object) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: object) -> object:
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            environ["PATH_INFO"] = path.rstrip("/") or "/"
        return self.app(environ, start_response)  # type: ignore[operator]


# The reason phrases AgentOS sends: uvicorn writes http.HTTPStatus(code).phrase of AgentOS's Python 3.11, read off
# the real AgentOS's status lines for every status this service answers. Pinned rather than taken from this
# interpreter, as Python 3.13 renamed some (413 "Content Too Large", 422 "Unprocessable Content").
REASON_PHRASES = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 413: "Request Entity Too Large", 422: "Unprocessable Entity",
    500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class AgentOSStatusLine:
    """WSGI wrapper: the status line with AgentOS's reason phrase (`404 Not Found`), not werkzeug's (`404 NOT
    FOUND`); agno's client quotes the phrase in its exception messages."""

    def __init__(self, app: object) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> object:
        def start(status: str, headers: list, exc_info: object = None) -> object:
            code = int(status.split(" ", 1)[0])
            phrase = REASON_PHRASES.get(code) or _stdlib_phrase(code)
            return start_response(f"{code} {phrase}" if phrase else status, headers, exc_info)

        return self.app(environ, start)  # type: ignore[operator]


def _stdlib_phrase(code: int) -> str | None:
    """uvicorn's phrase for a status outside the verified table (none this service is known to answer)."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return None


def client_ip(trusted_proxies: int) -> str | None:
    """The caller's address; forwarded headers count only behind the configured number of trusted proxies."""
    if trusted_proxies > 0:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()]
        if forwarded:
            return forwarded[-min(trusted_proxies, len(forwarded))]
        real_ip = request.headers.get("X-Real-IP", "").strip()
        if real_ip:
            return real_ip
    return request.remote_addr


def install(app: Flask, settings: Settings) -> None:
    """Wire request ids, auth, CORS and the access log into `app`."""
    origins = set(settings.cors_origins)
    # Werkzeug stops reading a body without Content-Length (chunked) one byte past the limit: `read_body`
    # sees it is too large without holding more of it.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1

    def allowed(origin: str | None) -> bool:
        return origin is not None and origin in origins

    @app.before_request
    def start() -> Response | None:
        g.started = time.perf_counter()  # the request's one clock: the access log and the latency metric read it
        deadline.start(settings.request_timeout)  # pool waits and statements share what is left of it
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else _new_request_id()
        g.db_id = None
        g.caller = UNRESTRICTED
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin is not None and "Access-Control-Request-Method" in request.headers:
            return _preflight(origin, allowed(origin))
        if settings.jwt is not None:
            # JWT mode (OS_SECURITY_KEY is then ignored, as in AgentOS); any OPTIONS skips auth there too.
            if request.method != "OPTIONS" and request.path not in OPEN_PATHS:
                try:
                    g.caller = authenticate(settings.jwt)
                except AuthDenied as denied:
                    return _denied(denied.status, denied.detail, allowed(origin))
        elif settings.security_key and request.path not in OPEN_PATHS:
            refusal = key_refusal(request.headers.get("Authorization"), settings.security_key)
            if refusal is not None:
                return _unauthorized(refusal, allowed(origin))
        if (request.content_length or 0) > settings.max_body_bytes:  # refused before a byte of it is read
            raise RequestEntityTooLarge()
        if request.method in ("HEAD", "OPTIONS") and request.url_rule is not None:
            # Starlette routes no implicit HEAD/OPTIONS: 405 naming the path's first route's method.
            raise MethodNotAllowed(valid_methods=sorted(request.url_rule.methods - {"HEAD", "OPTIONS"}))
        return None

    @app.teardown_request
    def no_deadline(_exc: BaseException | None) -> None:
        deadline.clear()

    @app.after_request
    def finish(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not getattr(response, "cors_done", False):
            response.vary.add("Origin")
            if origin is not None:
                response.headers["Access-Control-Allow-Credentials"] = "true"
                response.headers["Access-Control-Expose-Headers"] = "*"
                if allowed(origin):
                    response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["X-Request-ID"] = g.get("request_id", "")
        _access_log(response.status_code)
        return response

    def _access_log(status: int) -> None:
        started = g.get("started")
        log.info("request", extra={"fields": {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "db_id": g.get("db_id"),
            "client_ip": client_ip(settings.trusted_proxies),
        }})


def _preflight(origin: str, origin_ok: bool) -> Response:
    """Starlette's CORS preflight: 200 "OK", or 400 naming each failed check (origin, method, private network)."""
    headers = {
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                "Access-Control-Request-Private-Network",
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Credentials": "true",
    }
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    failures = []
    if origin_ok:
        headers["Access-Control-Allow-Origin"] = origin
    else:
        failures.append("origin")
    if request.headers["Access-Control-Request-Method"] not in CORS_METHODS.split(", "):
        failures.append("method")
    if "Access-Control-Request-Private-Network" in request.headers:
        failures.append("private-network")
    body, status = ("Disallowed CORS " + ", ".join(failures), 400) if failures else ("OK", 200)
    response = Response(body, status=status, content_type="text/plain; charset=utf-8", headers=headers)
    response.cors_done = True  # type: ignore[attr-defined]
    return response


def _denied(status: int, detail: str, origin_ok: bool) -> Response:
    """JWT mode's 401/403: AgentOS's body and CORS grants; deviation `jwt-www-authenticate`: every 401 names the
    scheme (RFC 6750), which AgentOS omits."""
    response = _unauthorized(detail, origin_ok, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _unauthorized(detail: str, origin_ok: bool, status: int = 401) -> Response:
    """AgentOS's 401: no WWW-Authenticate; its auth layer adds wildcard CORS grants for allowed origins."""
    headers = {"Access-Control-Allow-Methods": "*", "Access-Control-Allow-Headers": "*"} if origin_ok else {}
    return error_response(status, detail, headers)
