"""What PATCH and the state merge write on a locked row: pure rules, checked before anything reaches storage."""

from __future__ import annotations

from typing import Any

import pytest

from service.rules.state_merge import merged_state
from service.rules.validation.depth import ANSWER_DEPTH
from service.rules.validation.errors import RequestInvalid
from service.rules.writes import SessionWrite, patched_session
from tests.support.render_cases import row

NOW = 1795319595


def nested(levels: int) -> Any:
    """An object `levels` deep as pydantic-core counts (the innermost scalar is a level)."""
    value: Any = 1
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def test_patch_reads_as_the_asked_type_and_answers_in_the_rows_own() -> None:
    write = patched_session(row(session_type="agent", team_id="t"), "team", {"session_name": "n"}, NOW)
    assert isinstance(write, SessionWrite)
    assert (write.kind, write.own_type) == ("team", "agent")
    assert write.columns["component_id"] == "t"
    assert write.columns["session_data"]["session_name"] == "n"
    assert write.columns["now"] == NOW


@pytest.mark.parametrize(("session_type", "deepest_allowed"), [("agent", ANSWER_DEPTH - 1),
                                                                ("workflow", ANSWER_DEPTH - 2)])
def test_patch_refuses_a_state_too_deep_for_the_rows_own_answer(session_type: str, deepest_allowed: int) -> None:
    stored = row(session_type=session_type)
    assert patched_session(stored, None, {"session_state": nested(deepest_allowed)}, NOW).own_type == session_type
    with pytest.raises(RequestInvalid) as caught:
        patched_session(stored, "agent", {"session_state": nested(deepest_allowed + 1)}, NOW)
    assert [(e["type"], e["loc"]) for e in caught.value.errors] == [("too_deep", ["body", "session_state"])]


def test_state_merge_writes_the_merged_data_and_refuses_a_patch_too_deep() -> None:
    stored = row(session_type="workflow", session_data={"session_state": {"a": 1, "b": 2}})
    write = merged_state(stored, {"b": None, "c": 3}, NOW)
    assert (write.kind, write.own_type) == ("workflow", "workflow")
    assert write.columns == {"session_data": {"session_state": {"a": 1, "c": 3}}, "now": NOW}
    with pytest.raises(RequestInvalid) as caught:
        merged_state(stored, nested(ANSWER_DEPTH - 1), NOW)
    assert [(e["type"], e["loc"]) for e in caught.value.errors] == [("too_deep", ["body"])]
