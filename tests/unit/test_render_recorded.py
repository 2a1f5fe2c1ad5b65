"""Byte-level checks of the render layer against outputs recorded from agno 3.1.10's own schema classes.

tests/support/render_expected.json holds, per case, the compact JSON that AgentOS's pydantic schemas produced for the
rows and runs in tests/support/render_cases.py (SessionSchema.from_dict, *SessionDetailSchema.from_session,
classify_session_run, SessionRunPreviewSchema.from_run, the single-run selection), serialised the way AgentOS
serves them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from service.rules import render
from tests.support.render_cases import AGENT_ROW, AGENT_RUNS, TEAM_ROW, TEAM_RUNS, WF_ROW, WF_RUNS

EXPECTED_FILE = Path(__file__).resolve().parents[1] / "support" / "render_expected.json"
EXPECTED = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
CASES = {"AGENT": (AGENT_ROW, AGENT_RUNS), "TEAM": (TEAM_ROW, TEAM_RUNS), "WF": (WF_ROW, WF_RUNS)}


def compact(value: object) -> str:
    """How the HTTP layer serialises: compact separators, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def rendered(case: str) -> str:
    """Render one recorded case ('AGENT detail team exnone', 'WF single run-w2', …) with our functions."""
    fixture, operation, *rest = case.split(" ")
    row, runs = CASES[fixture]
    if operation == "list":
        return compact(render.session_list_item(row, render.session_name(row, runs, for_list=True)))
    if operation == "detail":
        as_type, nulls = rest
        detail = render.session_detail(row, runs, as_type, now=int(time.time()))
        return compact(render.drop_none(detail) if nulls == "exnone" else detail)
    if operation == "runs":
        return compact([render.drop_none(item) for item in render.session_runs(row, runs, rest[0])])
    if operation == "previews":
        items = render.session_runs(row, runs, rest[0])
        return compact([render.drop_none(render.run_preview(item)) for item in items])
    run = next(run for run in runs if run["run_id"] == rest[0])
    return compact(render.single_run(row, run))


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_matches_agentos(case: str) -> None:
    assert rendered(case) == EXPECTED[case]


def test_every_fixture_and_operation_is_recorded() -> None:
    operations = {" ".join(case.split(" ")[:2]) for case in EXPECTED}
    assert operations == {
        f"{f} {op}" for f in CASES for op in ("list", "detail", "runs", "previews", "single")
    }
