"""Prometheus metrics for operators: one registry per app, summed across gunicorn workers in multiprocess mode."""

from __future__ import annotations

import os
import platform
import re
import time
from functools import cache
from importlib import metadata

from flask import Blueprint, Flask, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from werkzeug.wrappers import Response

from service.api.responses import error_response
from service.auth.gate import KEY_INVALID, KEY_MISSING
from service.auth.tokens import bearer_matches
from service.core.config import Settings
from service.core.env import PROMETHEUS_MULTIPROC_DIR
from service.storage.pool import PRIMARY, REPLICA

# Request latencies from a cached read (~1 ms) to the request timeout; query latencies a decade lower.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
# Methods counted under their own name; any other (a client may send any token) is `other`, so a flood of made-up
# methods adds no series. The routes' own methods are added at install.
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
TOKEN_VARIABLE = "AGNO_METRICS_TOKEN"

bp = Blueprint("metrics", __name__)


class Metrics:
    """The service's metrics; gauges of live values count only live workers (`livesum`)."""

    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.settings = settings
        self.requests = Counter("agno_session_http_requests", "HTTP requests answered, by route template, method "
                                "and status.", ["route", "method", "status"], registry=r)
        self.latency = Histogram("agno_session_http_request_duration_seconds", "Time from the request's first "
                                 "hook to its response, by route template and method.", ["route", "method"],
                                 buckets=REQUEST_BUCKETS, registry=r)
        self.errors = Counter("agno_session_errors", "Exceptions answered as errors, by class.",
                              ["error_class", "status"], registry=r)
        pools = ["db_id", "pool"]  # pool: primary, or replica (a database's read replica)
        self.pool_in_use = Gauge("agno_session_db_pool_connections_in_use", "Pool slots held by requests, per "
                                 "database and pool.", pools, multiprocess_mode="livesum", registry=r)
        self.pool_waiting = Gauge("agno_session_db_pool_connections_waiting", "Requests waiting for a free pool "
                                  "slot, per database and pool.", pools, multiprocess_mode="livesum", registry=r)
        self.pool_max = Gauge("agno_session_db_pool_connections_max", "Pool capacity (slots), per database and "
                              "pool, over the serving workers.", pools, multiprocess_mode="livesum", registry=r)
        self.query_latency = Histogram("agno_session_db_query_duration_seconds", "Time of one SQL statement's "
                                       "round trip, per database and pool.", pools, buckets=QUERY_BUCKETS,
                                       registry=r)
        self.replica_fallbacks = Counter("agno_session_db_replica_fallbacks", "Reads of GET requests the primary "
                                         "served because the database's read replica could not be reached.",
                                         ["db_id"], registry=r)
        self.erased_rows = Counter("agno_session_erased_rows", "Rows erasure jobs deleted, per database and table.",
                                   ["db_id", "table"], registry=r)
        self.erasures = Counter("agno_session_erasures", "Erasure jobs that ended, per database and state (done, "
                                "failed).", ["db_id", "state"], registry=r)
        self.lifecycle = Counter("agno_session_lifecycle_sessions", "Sessions moved through the lifecycle by this "
                                 "service, by action (archived, restored, purged) and database.",
                                 ["action", "db_id"], registry=r)
        self.changes_delivered = Counter("agno_session_changes_delivered", "Change feed events answered by "
                                         "GET /sessions/-/changes, per database.", ["db_id"], registry=r)
        self.changes_lag = Histogram("agno_session_changes_lag_seconds", "Age of the newest event of a change feed "
                                     "answer when it was sent (write to delivery), per database.", ["db_id"],
                                     buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=r)
        self.changes_waiting = Gauge("agno_session_changes_waiting", "Change feed requests long-polling now, per "
                                     "database.", ["db_id"], multiprocess_mode="livesum", registry=r)
        self.build_info = Gauge("agno_session_build_info", "Always 1; the labels name the running build.",
                                ["version", "python_version"], multiprocess_mode="max", registry=r)
        self.build_info.labels(version=_version(), python_version=platform.python_version()).set(1)
        self._serving_pid: int | None = None
        self._children: dict[tuple, object] = {}

    def child(self, metric: Counter | Gauge | Histogram, *values: str) -> Counter | Gauge | Histogram:
        """`metric.labels(*values)`, remembered: labels() takes a lock and checks its arguments on every call,
        several times per request."""
        key = (id(metric), *values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    # --- the storage layer's PoolObserver

    def pool_waiting_changed(self, db_id: str, pool: str, delta: int) -> None:
        self.child(self.pool_waiting, db_id, pool).inc(delta)

    def pool_in_use_changed(self, db_id: str, pool: str, delta: int) -> None:
        self.child(self.pool_in_use, db_id, pool).inc(delta)

    def query_finished(self, db_id: str, pool: str, seconds: float) -> None:
        self.child(self.query_latency, db_id, pool).observe(seconds)

    def replica_fallback(self, db_id: str) -> None:
        self.child(self.replica_fallbacks, db_id).inc()

    # --- the erasure thread's ErasureObserver

    def erasure_rows(self, db_id: str, table: str, rows: int) -> None:
        self.child(self.erased_rows, db_id, table).inc(rows)

    def erasure_ended(self, db_id: str, state: str) -> None:
        self.child(self.erasures, db_id, state).inc()

    # --- requests

    def serving(self) -> None:
        """Once per process that serves (a forked worker, not gunicorn's master): publish its pool capacity."""
        pid = os.getpid()
        if self._serving_pid != pid:
            self._serving_pid = pid
            for db in self.settings.databases:
                for pool in (PRIMARY, REPLICA) if db.replica_dsn else (PRIMARY,):
                    self.pool_max.labels(db_id=db.db_id, pool=pool).set(self.settings.pool_max)
                    self.pool_in_use.labels(db_id=db.db_id, pool=pool).inc(0)  # the series exist before any query
                    self.pool_waiting.labels(db_id=db.db_id, pool=pool).inc(0)
                if db.replica_dsn:
                    self.replica_fallbacks.labels(db_id=db.db_id).inc(0)

    def exposition(self) -> bytes:
        """Every worker's values when running under gunicorn's multiprocess setup, else this process's."""
        if os.environ.get(PROMETHEUS_MULTIPROC_DIR):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


@cache
def route_template(rule: str | None) -> str:
    """`/sessions/<session_id>` → `/sessions/{session_id}`; requests no route matched share one label value."""
    return _CONVERTER.sub(r"{\1}", rule) if rule else "unmatched"


def _version() -> str:
    try:
        return metadata.version("agno-session")
    except metadata.PackageNotFoundError:
        return "unknown"


@bp.get("/metrics")
def metrics() -> Response:
    refused = scrape_refusal(current_app.config["SETTINGS"], request.headers.get("Authorization"))
    if refused:
        return error_response(401, refused, {"WWW-Authenticate": "Bearer"})
    return Response(current_app.config["METRICS"].exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def scrape_refusal(settings: Settings, header: str | None) -> str | None:
    """Why a scrape with this Authorization value is refused, or None. With AGNO_METRICS_TOKEN only its bearer reads;
    without it the metrics are open, except under tenants, where their `db_id` labels would list every tenant's
    databases. (The event process's /metrics applies it too.)"""
    if settings.metrics_token:
        if not header:
            return KEY_MISSING
        return None if bearer_matches(header, settings.metrics_token) else KEY_INVALID
    if settings.tenants:
        return f"Metrics name every tenant's databases: set {TOKEN_VARIABLE} and scrape with it"
    return None


def tenant_warning(settings: Settings) -> str | None:
    """The start-up warning for a configuration whose /metrics refuses every scrape, or None."""
    if settings.tenants and not settings.metrics_token:
        return f"/metrics answers 401 to every scrape: AGNO_JWT_TENANT_CLAIM is set without {TOKEN_VARIABLE}"
    return None


def install(app: Flask, metrics: Metrics) -> None:
    """Time and count every request, and count the exceptions the error handlers answered (they note each one's
    class in `g.error_class`)."""

    # First, so a worker that has answered only early refusals (401, preflight) still publishes its pools.
    app.before_request_funcs.setdefault(None, []).insert(0, metrics.serving)
    counted = STANDARD_METHODS | {m for rule in app.url_map.iter_rules() for m in rule.methods or ()}

    @app.after_request
    def record(response: Response) -> Response:
        route = route_template(request.url_rule.rule if request.url_rule is not None else None)
        status = str(response.status_code)
        method = request.method if request.method in counted else OTHER_METHOD
        metrics.child(metrics.requests, route, method, status).inc()
        started = g.get("started")  # the middleware's clock, started before any early answer
        if started is not None:
            metrics.child(metrics.latency, route, method).observe(time.perf_counter() - started)
        error_class = g.get("error_class")
        if error_class:
            metrics.child(metrics.errors, error_class, status).inc()
        return response
