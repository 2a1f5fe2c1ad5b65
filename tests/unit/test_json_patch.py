"""RFC 6902 JSON Patch of session_state (extension `json-patch`), pure: the body's shape checks and the application
behind PATCH /sessions/{id}/state (through PostgreSQL: tests/integration/test_state_json_patch.py)."""

from __future__ import annotations

import pytest

from service.rules.errors import ApiError
from service.rules.state_json_patch import MAX_COPIED_VALUES, apply_json_patch, patched_state
from service.rules.validation.body import ABSENT
from service.rules.validation.errors import RequestInvalid
from service.rules.validation.json_patch import JsonPatchOps, json_patch_body


def ops(*operations: dict) -> JsonPatchOps:
    parsed = json_patch_body(list(operations))
    assert not parsed.errors and not parsed.deferred, parsed
    return parsed.value


STATE = {"a": {"b": 1, "c": [1, 2, 3]}, "flag": True, "n": 1, "x~y/z": "esc"}


@pytest.mark.parametrize(("patch", "result"), [
    ([{"op": "add", "path": "/new", "value": {"k": [None]}}], {**STATE, "new": {"k": [None]}}),
    ([{"op": "add", "path": "/a/c/1", "value": 9}], {**STATE, "a": {"b": 1, "c": [1, 9, 2, 3]}}),
    ([{"op": "add", "path": "/a/c/-", "value": 4}], {**STATE, "a": {"b": 1, "c": [1, 2, 3, 4]}}),
    ([{"op": "add", "path": "/n", "value": 2}], {**STATE, "n": 2}),  # add replaces an existing member
    ([{"op": "remove", "path": "/a/b"}], {**STATE, "a": {"c": [1, 2, 3]}}),
    ([{"op": "remove", "path": "/a/c/0"}], {**STATE, "a": {"b": 1, "c": [2, 3]}}),
    ([{"op": "replace", "path": "/x~0y~1z", "value": None}], {**STATE, "x~y/z": None}),
    ([{"op": "move", "from": "/a/b", "path": "/b"}], {**STATE, "a": {"c": [1, 2, 3]}, "b": 1}),
    ([{"op": "move", "from": "/a/c/0", "path": "/a/c/-"}], {**STATE, "a": {"b": 1, "c": [2, 3, 1]}}),
    ([{"op": "copy", "from": "/a", "path": "/a2"}], {**STATE, "a2": {"b": 1, "c": [1, 2, 3]}}),
    ([{"op": "test", "path": "/a", "value": {"c": [1, 2, 3.0], "b": 1}}], STATE),  # numbers by value
    ([{"op": "test", "path": "/n", "value": 1}, {"op": "replace", "path": "/n", "value": 2}], {**STATE, "n": 2}),
    ([{"op": "replace", "path": "", "value": {"only": 1}}], {"only": 1}),
    ([], STATE),
])
def test_every_operation(patch, result) -> None:
    before = {"a": {"b": 1, "c": [1, 2, 3]}, "flag": True, "n": 1, "x~y/z": "esc"}
    assert apply_json_patch(before, ops(*patch)) == result
    assert before == STATE  # the stored state is never changed in place


@pytest.mark.parametrize(("test", "pointer"), [
    ({"op": "test", "path": "/n", "value": 2}, "/n"),
    ({"op": "test", "path": "/flag", "value": 1}, "/flag"),  # RFC 6902 4.6: true is not 1
    ({"op": "test", "path": "/n", "value": True}, "/n"),
    ({"op": "test", "path": "/n", "value": "1"}, "/n"),
    ({"op": "test", "path": "/missing", "value": None}, "/missing"),  # absent is not null
    ({"op": "test", "path": "/x~0y~1z", "value": "other"}, "/x~0y~1z"),
    ({"op": "test", "path": "/a/c", "value": [1, 2]}, "/a/c"),
])
def test_a_failed_test_is_409_naming_its_pointer(test, pointer) -> None:
    with pytest.raises(ApiError) as raised:
        apply_json_patch(STATE, ops({"op": "replace", "path": "/n", "value": 5}, test))
    assert (raised.value.status, raised.value.detail) == (409, f"JSON Patch test failed at {pointer}")


@pytest.mark.parametrize("op", [
    {"op": "remove", "path": "/missing"},
    {"op": "remove", "path": "/a/c/3"},
    {"op": "remove", "path": ""},
    {"op": "replace", "path": "/missing", "value": 1},
    {"op": "replace", "path": "/a/c/-", "value": 1},
    {"op": "add", "path": "/missing/deeper", "value": 1},
    {"op": "add", "path": "/a/c/7", "value": 1},
    {"op": "add", "path": "/a/c/x", "value": 1},
    {"op": "move", "from": "/missing", "path": "/b"},
    {"op": "move", "from": "/a", "path": "/a/inside"},
    {"op": "copy", "from": "/missing", "path": "/b"},
    {"op": "copy", "from": "/a/c/9", "path": "/b"},
])
def test_an_operation_that_cannot_apply_is_422_at_its_index(op) -> None:
    with pytest.raises(RequestInvalid) as raised:
        apply_json_patch(STATE, ops({"op": "add", "path": "/fine", "value": 1}, op))
    (only,) = raised.value.errors
    assert (only["type"], only["loc"], only["input"]) == ("json_patch_conflict", ["body", 1], op)
    assert only["ctx"]["error"]


def test_copies_are_bounded_so_a_small_patch_cannot_blow_up_the_state() -> None:
    doubling = [{"op": "copy", "from": "/d", "path": "/d/-"} for _ in range(40)]
    with pytest.raises(RequestInvalid) as raised:
        apply_json_patch({"d": [1]}, ops(*doubling))
    (only,) = raised.value.errors
    assert only["type"] == "too_many_copies" and only["ctx"] == {"max_values": MAX_COPIED_VALUES}
    assert only["loc"][1] == 15  # copies 2, 4, 8, … values: past 100,000 in all with the 16th
    assert len(apply_json_patch({"d": [1]}, ops(*doubling[:12]))["d"]) == 13  # 8,190 values copied: allowed


def row(session_data: object, session_type: str = "agent") -> dict:
    return {"session_type": session_type, "session_data": session_data, "runs": []}


@pytest.mark.parametrize("session_data", [None, "junk", [1], {"session_state": None}, {"session_state": [1]},
                                          {"session_name": "keep"}])
def test_a_missing_or_non_object_state_is_patched_as_an_empty_object(session_data) -> None:
    patch = ops({"op": "test", "path": "", "value": {}}, {"op": "add", "path": "/a", "value": 1})
    write = patched_state(row(session_data), patch, now=7)
    kept = {"session_name": "keep"} if session_data == {"session_name": "keep"} else {}
    assert write.columns == {"session_data": {**kept, "session_state": {"a": 1}}, "now": 7}


def test_the_result_must_be_an_object_no_deeper_than_the_answer_holds() -> None:
    with pytest.raises(RequestInvalid) as raised:
        patched_state(row({"session_state": {}}), ops({"op": "replace", "path": "", "value": [1]}), now=1)
    assert raised.value.errors[0]["type"] == "model_attributes_type" and raised.value.errors[0]["loc"] == ["body"]
    deep: object = 1
    for _ in range(252):
        deep = [deep]
    fits = ops({"op": "add", "path": "/d", "value": deep})  # 254 levels: fits an agent's answer
    assert patched_state(row({}), fits, now=1).columns["session_data"]["session_state"] == {"d": deep}
    for too_deep in (ops({"op": "add", "path": "/d", "value": [deep]}),
                     ops({"op": "add", "path": "/d", "value": deep}, {"op": "move", "from": "/d", "path": "/e"},
                         {"op": "add", "path": "/d", "value": {}}, {"op": "move", "from": "/e", "path": "/d/e"})):
        with pytest.raises(RequestInvalid) as raised:
            patched_state(row({}), too_deep, now=1)
        assert raised.value.errors[0]["type"] == "too_deep", raised.value.errors
    with pytest.raises(RequestInvalid):  # a workflow's state sits one level deeper in its answer
        patched_state(row({}, "workflow"), fits, now=1)


# ------------------------------------------------------------------------------------------- the body's shape


def shape_errors(body: object) -> list[tuple[str, list]]:
    out = json_patch_body(body)
    return [(e["type"], e["loc"]) for e in out.errors + out.deferred]


@pytest.mark.parametrize(("body", "errors"), [
    (ABSENT, [("missing", ["body"])]),
    ({"op": "add", "path": "/a", "value": 1}, [("list_type", ["body"])]),
    (None, [("list_type", ["body"])]),
    (b"text", [("list_type", ["body"])]),
    ([1], [("model_attributes_type", ["body", 0])]),
    ([{"path": "/a"}], [("missing", ["body", 0, "op"])]),
    ([{"op": "append", "path": "/a"}], [("enum", ["body", 0, "op"])]),
    ([{"op": ["add"], "path": "/a"}], [("enum", ["body", 0, "op"])]),
    ([{"op": "remove"}], [("missing", ["body", 0, "path"])]),
    ([{"op": "remove", "path": 1}], [("string_type", ["body", 0, "path"])]),
    ([{"op": "remove", "path": "a"}], [("json_pointer", ["body", 0, "path"])]),
    ([{"op": "remove", "path": "/a~2"}], [("json_pointer", ["body", 0, "path"])]),
    ([{"op": "add", "path": "/a"}], [("missing", ["body", 0, "value"])]),
    ([{"op": "replace", "path": "/a"}], [("missing", ["body", 0, "value"])]),
    ([{"op": "test", "path": "/a"}], [("missing", ["body", 0, "value"])]),
    ([{"op": "move", "path": "/a"}], [("missing", ["body", 0, "from"])]),
    ([{"op": "copy", "path": "/a", "from": None}], [("string_type", ["body", 0, "from"])]),
    ([{"op": "copy", "path": "/a", "from": "x"}], [("json_pointer", ["body", 0, "from"])]),
    ([{"op": "add", "path": "/a\u0000b", "value": 1}], [("string_pattern_mismatch", ["body", 0, "path"])]),
    ([{"op": "add", "path": "/a", "value": {"k\u0000": 1}}], [("string_pattern_mismatch",
                                                                 ["body", 0, "value", "k\u0000", "[key]"])]),
    ([{"op": "add", "path": "/a", "value": float("nan")}], [("finite_number", ["body", 0, "value"])]),
    ([{"op": "remove", "path": "/a"}, "x", {"op": "move", "path": "/b"}],
     [("model_attributes_type", ["body", 1]), ("missing", ["body", 2, "from"])]),
])
def test_malformed_patches_are_located_422s(body, errors) -> None:
    assert shape_errors(body) == errors


def test_values_are_sanitized_as_agno_stores_them_and_pointers_are_kept() -> None:
    parsed = ops({"op": "add", "path": "/k\u0001", "value": {"s": "a\u0001b"}, "extra": "ignored"},
                 {"op": "remove", "path": "/k\u0001"})
    assert parsed.ops == ({"op": "add", "path": "/k\u0001", "value": {"s": "ab"}, "extra": "ignored"},
                          {"op": "remove", "path": "/k\u0001"})
