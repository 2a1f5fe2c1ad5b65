"""The deliverer's Prometheus metrics, served on a port of its own (AGNO_DELIVER_METRICS_PORT): `deliver` runs for
as long as its Deployment does, so Prometheus scrapes it like the service (a Pushgateway is for batch jobs, whose
process is gone before a scrape). The same port answers /healthz without credentials, for probes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app

from service.api.metrics import scrape_refusal
from service.core.config import Settings


class WebhookMetrics:
    """Counts per subscription, the backlog, and whether this process is the database's active deliverer."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.delivered = Counter("agno_session_webhooks_delivered", "Events a receiver accepted (a 2xx answer).",
                                 ["db_id", "subscription"], registry=r)
        self.retried = Counter("agno_session_webhooks_retried", "Failed attempts that will be tried again later.",
                               ["db_id", "subscription"], registry=r)
        self.dead_lettered = Counter("agno_session_webhooks_dead_lettered", "Events that failed for the whole retry "
                                     "window and went to the dead letters.", ["db_id", "subscription"], registry=r)
        self.queued = Gauge("agno_session_webhooks_queued", "Events read from the change feed and not yet delivered.",
                            ["db_id", "subscription"], registry=r)
        self.lag = Gauge("agno_session_webhooks_lag_seconds", "How long the oldest undelivered event has waited since "
                         "it was read from the change feed (0: nothing waits).", ["db_id", "subscription"], registry=r)
        self.active = Gauge("agno_session_webhooks_active", "1 while this process holds the database's deliverer "
                            "lock and delivers; 0 while it stands by.", ["db_id"], registry=r)

    def serve(self, settings: Settings, port: int) -> None:
        """Serve /metrics on `port` of the settings' host in a daemon thread (0: not at all), refused as the
        service's own /metrics refuses (AGNO_METRICS_TOKEN; tenants)."""
        if port:
            server = make_server(settings.host, port, served(settings, make_wsgi_app(self.registry)),
                                 _ThreadingServer, handler_class=_QuietHandler)
            threading.Thread(target=server.serve_forever, name="deliver-metrics", daemon=True).start()


def served(settings: Settings, metrics: Callable) -> Callable:
    """The port's WSGI app: /healthz open to probes (the process is up and serving), everything else the `metrics`
    app behind the service's scrape check (a refused scrape is 401 with the service's JSON body)."""

    def answer(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"}, [])
        refused = scrape_refusal(settings, environ.get("HTTP_AUTHORIZATION"))
        if refused is None:
            return metrics(environ, start_response)
        return _json(start_response, "401 Unauthorized", {"detail": refused}, [("WWW-Authenticate", "Bearer")])

    return answer


def _json(start_response: Callable, status: str, content: dict, headers: list[tuple[str, str]]) -> list[bytes]:
    """A compact JSON answer, as the service writes its own."""
    body = json.dumps(content, separators=(",", ":")).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers])
    return [body]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per scrape, none keeping the process alive."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access line on stderr for every scrape."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        """Scrapes are not logged."""
