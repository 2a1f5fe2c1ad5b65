"""The deliverer's /metrics port refuses scrapes as the service's /metrics does: with AGNO_METRICS_TOKEN only its
bearer reads, and under tenants without a token nobody does (its `db_id` labels would list every tenant's
databases). Its /healthz answers probes without credentials."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from service.commands.webhook_metrics import WebhookMetrics
from service.core.config import load_settings
from tests.support.servers import free_port


def scrape(port: int, token: str | None = None, path: str = "/metrics") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def served(env: dict[str, str]) -> int:
    metrics = WebhookMetrics()
    metrics.active.labels(db_id="d1").set(1)
    port = free_port()
    metrics.serve(load_settings({"AGNO_PG_DSN": "postgresql://localhost/x", **env}), port)
    return port


@pytest.mark.parametrize("token", [None, "wrong"])
def test_with_a_token_only_its_bearer_reads(token) -> None:
    port = served({"AGNO_METRICS_TOKEN": "s3cret"})
    status, body = scrape(port, token)
    detail = "Authorization header required" if token is None else "Invalid authentication token"
    assert (status, body) == (401, f'{{"detail":"{detail}"}}')
    status, body = scrape(port, "s3cret")
    assert status == 200 and 'agno_session_webhooks_active{db_id="d1"} 1.0' in body


def test_without_a_token_the_metrics_are_open() -> None:
    status, body = scrape(served({}))
    assert status == 200 and "agno_session_webhooks_active" in body


def test_healthz_needs_no_token() -> None:
    assert scrape(served({"AGNO_METRICS_TOKEN": "s3cret"}), path="/healthz") == (200, '{"status":"ok"}')
