"""The change feed's pure rules: event type patterns, and cursors that carry a position only under the filters
they were read with (altered or replayed elsewhere: 400)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from service.rules import changes, cursors

KEY = b"k" * 32
BOUND = changes.binding(["db", "ai", "agno_sessions"], {"owner": None, "type": "agent"})


@pytest.mark.parametrize(("patterns", "expected"), [
    ("session.*", ("session.created", "session.updated", "session.deleted")),
    ("session.*,run.created", ("session.created", "session.updated", "session.deleted", "run.created")),
    ("run.deleted, run.created", ("run.created", "run.deleted")),
    ("*", None),
    ("session.*,run.*", None),
])
def test_event_patterns_name_event_types(patterns, expected):
    assert changes.event_types(patterns) == expected


@pytest.mark.parametrize("patterns", ["", "session", "session.renamed", "runs.*", "session.*,", "[sr]*",
                                      ",".join(["*"] * 17)])
def test_a_pattern_naming_no_event_type_is_refused(patterns):
    with pytest.raises(ValueError):
        changes.event_types(patterns)


def test_a_cursor_carries_its_position_under_its_filters_only():
    token = changes.seal((2**40 + 7, 3), BOUND, KEY)
    assert changes.unseal(token, BOUND, KEY) == (2**40 + 7, 3)
    other = changes.binding(["db", "ai", "agno_sessions"], {"owner": None, "type": "team"})
    with pytest.raises(cursors.CursorMismatch):
        changes.unseal(token, other, KEY)
    body, mac = token.split(".")
    with pytest.raises(cursors.CursorInvalid):
        changes.unseal(body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac, BOUND, KEY)
    with pytest.raises(cursors.CursorInvalid):
        changes.unseal(token, BOUND, b"x" * 32)


@pytest.mark.parametrize("position", [{"t": "-1", "s": 0}, {"t": "1", "s": -1}, {"t": 1, "s": 0},
                                      {"t": "1", "s": True}, {"t": str(2**64), "s": 0}, {"s": 0}])
def test_a_sealed_but_impossible_position_is_invalid(position):
    token = cursors.seal(changes.CURSOR_KIND, BOUND, position, KEY)
    with pytest.raises(cursors.CursorInvalid):
        changes.unseal(token, BOUND, KEY)


def test_the_documented_events_pattern_is_the_one_checked():
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text(encoding="utf-8"))
    (events,) = [p for p in spec["paths"]["/sessions/-/changes"]["get"]["parameters"] if p.get("name") == "events"]
    assert events["schema"]["pattern"] == f"^{changes.EVENTS_PATTERN.pattern}$"
