"""A shadow run of AgentOS's own read traffic: the differences AgentOS's unspecified order and its 500s cause are
declared (from tests/contract/deviations.json), and the report shows them so in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract import replay
from tests.proxy.e2e.browser import Chromium
from tests.proxy.e2e.stage import Mitmdump, exchange

# The reads the issue names, as agent-ui and AgentOS's own clients send them, and what each may be declared as.
READS = {
    "/sessions?sort_by=bogus&user_id=user-2": {"unknown-sort"},
    "/sessions?sort_by=session_name&type=team": {"unknown-sort"},
    "/sessions?sort_by=session_name&type=agent": {"unknown-sort"},
    # ties in user_id: a sort_by that names a column, so the first declaration to match is unknown-sort's
    "/sessions?sort_by=user_id&sort_order=asc&type=workflow": {"tie-order", "unknown-sort"},
    "/sessions?sort_by=user_id&sort_order=desc": {"tie-order", "unknown-sort"},
    "/sessions?page=0": {"page-zero"},
    "/sessions?page=0&limit=5": {"page-zero"},
}


@pytest.fixture(scope="module")
def shadow_run(cluster, workdir) -> tuple[dict, list[dict], Path]:
    pair = cluster.pairs["single"]
    cluster.restore()
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "shadow")
    try:
        for target in READS:
            exchange(proxy.url, "GET", target)
        summary = proxy.settled(len(READS))
        records = proxy.records()
        report = proxy.report_dir / "report.html"
    finally:
        proxy.stop()
    return summary, records, report


def test_agentos_read_traffic_differs_only_as_declared(shadow_run):
    summary, records, _ = shadow_run
    assert summary["compared"] == len(READS) and summary["different"] == 0 and summary["unstable"] == 0, [
        (r["request"]["target"], r["differences"][:2]) for r in records if not r["declared"]]
    for record in records:
        target = replay.Request("GET", record["request"]["target"]).target
        assert record["declared"] in READS[target], (target, record["declared"])
    assert "page-zero" in summary["declared_by_name"]
    assert summary["declared"] == len(records) == sum(summary["declared_by_name"].values())
    print(f"\ndeclared: {summary['declared_by_name']}, identical: {summary['identical']}")


def test_the_report_renders_and_its_drill_down_opens_in_chromium(shadow_run):
    summary, _, report = shadow_run
    browser = Chromium()
    try:
        browser.open(report.as_uri())
        assert browser.evaluate("document.querySelector('h1').textContent").startswith("Shadow report")
        assert browser.evaluate("document.getElementById('regression-count').textContent") == "0"
        assert browser.evaluate("document.getElementById('declared-count').textContent") == str(summary["declared"])
        row = 'tr.cause[data-deviation="page-zero"]'
        verdict = browser.evaluate(f"document.querySelector('{row} td').innerText")
        assert verdict == "declared: page-zero"
        visible = browser.evaluate(f"document.querySelector('{row}').innerText")
        assert "Internal server error (ValueError)" in visible and "1-based" in visible  # error text and reason
        drill = f"{row} details.drill"
        body = f"{drill} pre"
        assert browser.evaluate(f"document.querySelector('{drill}').open") is False
        assert browser.evaluate(f"document.querySelector('{body}').checkVisibility()") is False
        browser.click(f"{drill} summary")
        assert browser.evaluate(f"document.querySelector('{drill}').open") is True
        assert browser.evaluate(f"document.querySelector('{body}').checkVisibility()") is True
        shown = browser.evaluate(f"document.querySelector('{drill}').innerText")
        assert "page=0" in shown and "greater_than_equal" in shown
        assert browser.evaluate("[...document.querySelectorAll('th')].some(t => t.textContent.includes('noise'))") \
            is False  # no second primary, no noise column
    finally:
        browser.close()
    print(f"\nreport checked in chromium: {json.dumps(summary['declared_by_name'])}")
