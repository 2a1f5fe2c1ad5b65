"""Declared deviations come from tests/contract/deviations.json (with reasons from docs/compatibility.md) and are
counted apart from regressions; the report groups differences by cause."""

from __future__ import annotations

import asyncio
import json

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from proxy import deviations
from proxy.addon import ShadowAddon
from proxy.answers import Answer
from tests.proxy.unit.flows import candidate, configured, drive, flow, json_answer


def test_the_projects_own_list_is_loaded_with_its_documented_reasons() -> None:
    devs = {d.name: d for d in deviations.load()}
    assert {"page-zero", "unknown-sort", "tie-order", "null-session-metrics"} <= set(devs)
    assert "request-id" not in devs  # declared without `when`: it cannot show in a comparison
    assert "1-based" in devs["page-zero"].reason["why"]
    assert "session_id" in devs["unknown-sort"].reason["agno-session"]


def test_reordered_rows_are_declared_only_when_nothing_but_the_order_differs() -> None:
    devs = deviations.load()
    req = deviations.Request("GET", "/sessions?sort_by=bogus", "", "")
    rows = [{"session_id": "a", "n": 1}, {"session_id": "b", "n": 2}]
    agentos = Answer(200, [], json.dumps({"data": rows}).encode())
    assert deviations.explain(devs, req, agentos, Answer(200, [], json.dumps({"data": rows[::-1]}).encode())
                              ).name == "unknown-sort"
    changed = [{"session_id": "b", "n": 3}, rows[0]]
    assert deviations.explain(devs, req, agentos, Answer(200, [], json.dumps({"data": changed}).encode())) is None


def test_a_broken_deviations_file_stops_the_proxy_with_its_name(tmp_path) -> None:
    bad = tmp_path / "deviations.json"
    bad.write_text('{"deviations": [{"name": "x", "when": {"target": "("}}]}')
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path)  # a valid start, so that the refusal rolls back to it
        with pytest.raises(exceptions.OptionsError, match="deviations.json: not a deviations file"):
            configured(tctx, addon, tmp_path, shadow_deviations=str(bad))


def test_a_declared_pair_is_counted_declared_grouped_by_cause_and_shown_with_its_reason(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path)
        candidate(addon, json_answer({"detail": [{"type": "greater_than_equal", "loc": ["query", "page"]}]}, 422))
        zero = [flow(path=f"/sessions?page=0&limit={n}", status=500,
                     answer={"detail": "Internal server error (ValueError)"}) for n in (1, 2)]
        asyncio.run(drive(addon, *zero))
        addon.flush()
        summary = json.loads((addon.run.report.dir / "summary.json").read_text())
        html = (addon.run.report.dir / "report.html").read_text()
    assert (summary["compared"], summary["declared"], summary["different"], summary["regressions"]) == (2, 2, 0, 0)
    assert summary["declared_by_name"] == {"page-zero": 2}
    (cause,) = summary["causes"]
    assert (cause["route"], cause["statuses"], cause["count"], cause["declared"]) == (
        "GET /sessions", "500 / 422", 2, "page-zero")
    assert cause["primary_text"] == "Internal server error (ValueError)"
    assert summary["routes"]["GET /sessions"]["fields"] == {}  # declared pairs are no field regressions
    assert 'data-deviation="page-zero"' in html and "1-based" in html
    assert "Internal server error (ValueError)" in html.split("<details", 1)[0]  # visible, not only in examples
    assert "noise (2nd primary)" not in html  # no second primary, no noise column


def test_the_noise_column_shows_only_with_a_second_primary(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_secondary="primary", shadow_recheck=False)
        candidate(addon, json_answer({"session_id": "s1", "n": 2}))
        asyncio.run(drive(addon, flow()))
        assert "noise (2nd primary)" in addon.html()
