"""/metrics: what operators alert on is counted right, in one process and summed across gunicorn workers."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.test_server import serving, worker_pids


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


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
    assert set(client.get("/healthz").headers.keys()) == {"Content-Type", "Content-Length", "Vary", "X-Request-ID"}


def test_dashboard_queries_name_only_exported_metrics(client) -> None:
    import json

    client.get("/sessions")
    exported = {family.name for family in text_string_to_metric_families(client.get("/metrics").get_data(
        as_text=True))}
    series = {n for f in exported for n in (f, f + "_total", f + "_bucket", f + "_count", f + "_sum")}
    dashboard = json.loads((Path(__file__).parent.parent / "deploy" / "grafana-dashboard.json").read_text())
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


def test_counts_are_summed_across_gunicorn_workers(db_env, tmp_path: Path) -> None:
    """Which worker the kernel gives a connection to is not ours to decide, so the workers serve one after another:
    one worker answers, is replaced (SIGTERM to it; the arbiter forks another), the new one answers; every scrape
    then sums both workers' files, and the gauges count only the live worker."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale from a previous run")
    requests = 30
    with serving({**db_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, workers=1, threads=2) as server:
        first = wait_for_workers(server.proc.pid, lambda pids: len(pids) == 1)[0]
        for _ in range(requests):
            assert server.request("GET", "/healthz", headers={"Connection": "close"})[0] == 200
        os.kill(first, signal.SIGTERM)
        wait_for_workers(server.proc.pid, lambda pids: len(pids) == 1 and first not in pids)
        for _ in range(requests):
            assert server.request("GET", "/healthz", headers={"Connection": "close"})[0] == 200
        writers = {p.name for p in metrics_dir.glob("counter_*.db")}
        scrapes = [server.request("GET", "/metrics")[2].decode() for _ in range(2)]
    assert "counter_1.db" not in writers and len(writers) == 2, writers  # both workers served and wrote
    for text in scrapes:
        assert value(text, "agno_session_http_requests_total", route="/healthz", method="GET",
                     status="200") == 2 * requests
        assert value(text, "agno_session_db_pool_connections_in_use", db_id="srv", pool="primary") == 0
        assert value(text, "agno_session_db_pool_connections_max", db_id="srv", pool="primary") == 2  # live only
        assert [v for (name, _), v in samples(text).items() if name == "agno_session_build_info"] == [1.0]


def wait_for_workers(arbiter: int, ready: Callable[[list[int]], bool], within: float = 30) -> list[int]:
    """The arbiter's worker pids once `ready` holds for them (forking is not instantaneous)."""
    deadline = time.monotonic() + within
    while not ready(pids := worker_pids(arbiter)):
        assert time.monotonic() < deadline, f"workers never became ready: {pids}"
        time.sleep(0.05)
    return pids
