"""RFC 7396 JSON merge patch, the pure function behind PATCH /sessions/{id}/state (extension `state-merge`)."""

from __future__ import annotations

import pytest

from service.rules.state_merge import merge_patch, merged_session_data


@pytest.mark.parametrize(("target", "patch", "result"), [  # RFC 7396 appendix A
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_rfc_7396_examples(target, patch, result) -> None:
    assert merge_patch(target, patch) == result


def test_merge_does_not_mutate_its_inputs() -> None:
    target, patch = {"a": {"b": 1}}, {"a": {"c": 2}}
    assert merge_patch(target, patch) == {"a": {"b": 1, "c": 2}}
    assert target == {"a": {"b": 1}} and patch == {"a": {"c": 2}}
    data = {"session_name": "n", "session_state": {"x": 1}}
    assert merged_session_data(data, {"y": 2}) == {"session_name": "n", "session_state": {"x": 1, "y": 2}}
    assert data == {"session_name": "n", "session_state": {"x": 1}}
    assert merged_session_data(None, {"y": None}) == {"session_state": {}}
    assert merged_session_data("junk", {"y": 1}) == {"session_state": {"y": 1}}
