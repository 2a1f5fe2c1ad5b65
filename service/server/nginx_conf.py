"""nginx.conf for the buffering front, rendered from the service's settings: every limit and timeout of the
front is one of the service's own (docs/operations.md, Front)."""

from __future__ import annotations

import json
from pathlib import Path

from service.core.config import Settings

# Upstream and response margins: gunicorn answers its own 504 at request_timeout; nginx waits a little longer.
READ_MARGIN_SECONDS = 10
# What one request's body may occupy in nginx's memory before it goes to a temporary file in the runtime dir.
BODY_MEMORY_BYTES = 128 * 1024
# In-flight requests nginx lets finish on SIGTERM before gunicorn is told to stop (inside Kubernetes' 45 s).
SHUTDOWN_SECONDS = 25
REFUSED = "/.agno-front/refused/"
EVENTS_PATH = "/sessions/-/events"
# A stream sends a keepalive comment every 15 s: an upstream silent for this long is gone.
EVENTS_IDLE_SECONDS = 120  # nginx-internal locations of the refusals' bodies


def refusals(settings: Settings) -> dict[int, tuple[int, str]]:
    """nginx's own refusals, by the code nginx raises: the status sent and the `detail` of the JSON body sent."""
    return {
        400: (400, "Invalid HTTP request received."),
        408: (408, "Request timed out waiting for the client"),
        413: (413, f"Request body is larger than {settings.max_body_bytes} bytes"),
        # Heads nginx will not hold: 400 as AgentOS's uvicorn/h11 answers them (nginx has no reason phrase for 431).
        414: (400, "Request line is too long"),
        494: (400, "Request header fields are too large"),
        502: (502, "Service is not reachable"),
        503: (503, "Too many requests in progress from this address"),
        504: (504, "Request timed out"),
        404: (404, "Not Found"),  # only the refusals' own internal paths, asked for from outside (as the app says)
    }


def _seconds(value: float) -> str:
    """nginx's time syntax, in whole milliseconds so sub-second settings survive."""
    return f"{round(value * 1000)}ms"


def _refusal_blocks(settings: Settings) -> str:
    """error_page rules and the named locations that answer them with the service's JSON shape."""
    lines = []
    for code, (status, detail) in refusals(settings).items():
        body = json.dumps({"detail": detail}, separators=(",", ":"))
        if any(c in body for c in "'$\\"):
            raise ValueError(f"refusal body {body!r} needs escaping in nginx.conf")
        # A URI, not a named location: nginx cannot redirect a request whose line it could not read to a name.
        lines.append(f"        error_page {code} ={status} {REFUSED}{code};")
        lines.append(f"        location = {REFUSED}{code} {{ internal; default_type application/json; "
                     f"return {status} '{body}'; }}")
    return "\n".join(lines)


def _events_block(settings: Settings) -> str:
    """With AGNO_FRONT_EVENTS_URL, the change feed's stream goes to the event process (`serve-events`), unbuffered
    and held open as long as the client stays; nothing else changes route."""
    if not settings.front_events_url:
        return ""
    return _proxy_location(f"= {EVENTS_PATH}", settings.front_events_url, [
        "proxy_buffering off;",
        "proxy_cache off;",
        "proxy_connect_timeout 5s;",
        f"proxy_read_timeout {EVENTS_IDLE_SECONDS}s;",
        f"proxy_send_timeout {EVENTS_IDLE_SECONDS}s;",
    ])


def _proxy_location(match: str, upstream: str, own: list[str]) -> str:
    """A location proxying to `upstream` over keepalive HTTP/1.1 with the client's host and address passed on,
    then its `own` directives."""
    lines = [f"location {match} {{", f"    proxy_pass {upstream};", "    proxy_http_version 1.1;",
             '    proxy_set_header Connection "";', "    proxy_set_header Host $http_host;",
             "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
             "    proxy_set_header X-Real-IP $remote_addr;", *(f"    {line}" for line in own), "}"]
    return "".join(f"        {line}\n" for line in lines)


def render(settings: Settings, runtime: Path, upstream: str, user: str | None = None) -> str:
    """nginx.conf for `settings`: nginx listens where the service would, gunicorn at `upstream` (a unix socket path).

    Every path nginx writes is under `runtime`; `user` is set only when started as root (nginx's workers would
    otherwise become `nobody` and could not reach the socket).
    """
    head_line = settings.max_head_bytes  # a request line or one header field as large as the whole head gunicorn takes
    listen = settings.port if settings.host in ("0.0.0.0", "") else f"{settings.host}:{settings.port}"
    if settings.host == "::":
        listen = f"[::]:{settings.port} ipv6only=off"
    # nginx must drop an idle upstream connection before gunicorn does, or a POST can meet a closing socket.
    upstream_idle = max(0.5, int(settings.keepalive_timeout) / 2)  # gunicorn's keepalive is whole seconds
    user_line = f"user {user};\n" if user else ""
    to_gunicorn = _proxy_location("/", "http://agno_session", [
        "# Whole requests only reach gunicorn; answers are passed on with gunicorn's own Server and Date.",
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "proxy_pass_header Server;",
        "proxy_pass_header Date;",
        "proxy_connect_timeout 5s;",
        f"proxy_send_timeout {_seconds(settings.body_timeout)};",
        f"proxy_read_timeout {_seconds(settings.request_timeout + READ_MARGIN_SECONDS)};",
    ])
    return f"""# Rendered by agno-session serve from its settings at start (service/server/front.py); not edited.
{user_line}daemon off;
master_process on;
worker_processes 1;
pid {runtime}/nginx.pid;
error_log stderr warn;
worker_shutdown_timeout {SHUTDOWN_SECONDS}s;

events {{
    worker_connections {settings.max_connections};
}}

http {{
    access_log off;
    server_tokens off;
    default_type application/octet-stream;
    client_body_temp_path {runtime}/body;
    proxy_temp_path {runtime}/proxy;
    fastcgi_temp_path {runtime}/fastcgi;
    uwsgi_temp_path {runtime}/uwsgi;
    scgi_temp_path {runtime}/scgi;

    # Slow and idle clients: each phase of a request has its own deadline (AGNO_*_TIMEOUT).
    client_header_timeout {_seconds(settings.header_timeout)};
    client_body_timeout {_seconds(settings.body_timeout)};
    send_timeout {_seconds(settings.body_timeout)};
    keepalive_timeout {_seconds(settings.keepalive_timeout)};
    reset_timedout_connection on;

    # Sizes: the head as gunicorn takes it (AGNO_MAX_HEAD_BYTES), the body as the app takes it (AGNO_MAX_BODY_BYTES).
    client_header_buffer_size 1k;
    large_client_header_buffers 2 {head_line};
    client_max_body_size {settings.max_body_bytes};
    client_body_buffer_size {min(settings.max_body_bytes, BODY_MEMORY_BYTES)};

    # Requests in progress per client address (AGNO_FRONT_CONN_PER_IP); idle connections are bounded by the timeouts.
    limit_conn_zone $binary_remote_addr zone=per_client:10m;
    limit_conn per_client {settings.front_conn_per_ip};
    limit_conn_status 503;
    limit_conn_log_level warn;

    upstream agno_session {{
        server unix:{upstream};
        keepalive {settings.workers * settings.threads};
        keepalive_timeout {_seconds(upstream_idle)};
    }}

    server {{
        listen {listen} backlog=1024;
{to_gunicorn}{_events_block(settings)}{_refusal_blocks(settings)}
    }}
}}
"""
