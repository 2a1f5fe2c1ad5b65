"""/metrics: what operators alert on is counted right in one process (across gunicorn workers:
tests/system/test_metrics_multiprocess.py)."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.metrics import value


def test_requests_are_counted_by_route_template_method_and_status(client) -> None:
    client.post("/sessions", json={"session_type": "agent", "session_id": "m1", "session_name": "x"})
    client.get("/sessions/m1")
    client.get("/sessions/m1")
    client.get("/sessions/absent")
    client.get("/no/such/route")
    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "agno_session_http_requests_total", route="/sessions/{session_id}", method="GET",
                 status="200") == 2
    assert value(text, "agno_session_http_requests_total", route="/sessions/{session_id}", method="GET",
                 status="404") == 1
    assert value(text, "agno_session_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert value(text, "agno_session_http_requests_total", route="/sessions", method="POST", status="201") == 1
    assert value(text, "agno_session_http_request_duration_seconds_count", route="/sessions/{session_id}",
                 method="GET") == 3
    assert value(text, "agno_session_errors_total", error_class="NotFound", status="404") == 1
    assert value(text, "agno_session_errors_total", error_class="ApiError", status="404") == 1


def test_pool_and_query_metrics_per_database(client) -> None:
    client.get("/sessions")
    text = client.get("/metrics").get_data(as_text=True)
    db_id = client.application.config["SETTINGS"].default_db_id
    assert value(text, "agno_session_db_pool_connections_in_use", db_id=db_id, pool="primary") == 0
    assert value(text, "agno_session_db_pool_connections_waiting", db_id=db_id, pool="primary") == 0
    assert value(text, "agno_session_db_pool_connections_max", db_id=db_id, pool="primary") == 8
    assert value(text, "agno_session_db_query_duration_seconds_count", db_id=db_id, pool="primary") >= 1
    build = [s for s in text.splitlines() if s.startswith("agno_session_build_info{")]
    assert len(build) == 1 and build[0].endswith(" 1.0") and 'version="' in build[0]


def test_metrics_need_no_key_and_add_nothing_to_other_answers(make_app) -> None:
    client = make_app(OS_SECURITY_KEY="k").test_client()
    assert client.get("/sessions").status_code == 401
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert value(response.get_data(as_text=True), "agno_session_http_requests_total", route="/sessions",
                 method="GET", status="401") == 1
    # The request's one clock starts before the key check: a refusal is timed like any answer.
    assert value(response.get_data(as_text=True), "agno_session_http_request_duration_seconds_count",
                 route="/sessions", method="GET") == 1
    assert set(client.get("/healthz").headers.keys()) == {"Content-Type", "Content-Length", "Vary", "X-Request-ID"}


def test_dashboard_queries_name_only_exported_metrics(client) -> None:
    import json

    client.get("/sessions")
    exported = {family.name for family in text_string_to_metric_families(client.get("/metrics").get_data(
        as_text=True))}
    series = {n for f in exported for n in (f, f + "_total", f + "_bucket", f + "_count", f + "_sum")}
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert len(exprs) >= 8
    for expr in exprs:
        names = set(re.findall(r"\b(agno_session_\w+)", expr))
        assert names, expr
        assert names <= series, (expr, names - series)
    assert {n for e in exprs for n in re.findall(r"\b(agno_session_\w+?)(?:_total|_bucket|_count|_sum)?\b", e)} \
        >= {"agno_session_http_requests", "agno_session_http_request_duration_seconds",
            "agno_session_db_pool_connections_in_use", "agno_session_db_pool_connections_waiting",
            "agno_session_db_query_duration_seconds", "agno_session_errors", "agno_session_build_info"}


def test_a_metrics_token_guards_metrics_alone(make_app) -> None:
    """AGNO_METRICS_TOKEN is Prometheus's own credential: it opens /metrics only, the API key does not open it."""
    client = make_app(AGNO_METRICS_TOKEN="prom-credential", OS_SECURITY_KEY="k").test_client()
    refusals = {
        None: "Authorization header required",
        "Bearer wrong": "Invalid authentication token",
        "Bearer k": "Invalid authentication token",
        "prom-credential": "Invalid authentication token",  # the bare value: Bearer is required
        "Bearer prom-credential-and-more": "Invalid authentication token",
    }
    for header, detail in refusals.items():
        response = client.get("/metrics", headers={"Authorization": header} if header else {})
        assert (response.status_code, response.get_json()) == (401, {"detail": detail}), header
        assert response.headers["WWW-Authenticate"] == "Bearer"
    for header in ("Bearer prom-credential", "bearer  prom-credential "):
        response = client.get("/metrics", headers={"Authorization": header})
        assert response.status_code == 200 and b"agno_session_http_requests_total" in response.data
    assert client.get("/sessions", headers={"Authorization": "Bearer prom-credential"}).status_code == 401


def test_tenants_without_a_metrics_token_are_warned_at_start(make_app, pg_dsn) -> None:
    import json
    import logging

    from service.core.logs import LOGGER
    from tests.support.jwt_tokens import hs_secret
    from tests.support.log_capture import Capture

    mapping = {"acme-db": {"dsn": pg_dsn, "tenant": "acme"}}
    handler, logger = Capture(), logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        make_app(JWT_VERIFICATION_KEY=hs_secret(), AGNO_JWT_ALGORITHM="HS256", AGNO_JWT_TENANT_CLAIM="tenant",
                 AGNO_SESSION_DSN_MAP=json.dumps(mapping))
    finally:
        logger.removeHandler(handler)
    assert any('"level":"warning"' in line and "AGNO_METRICS_TOKEN" in line for line in handler.lines)
