"""PATCH /sessions/{id}/state as `application/json-patch+json` (extension `json-patch`) against PostgreSQL: every
operation lands in the row, and a failed `test` (409) or an invalid patch (422) leaves the row as it was (the pure
rules: tests/unit/test_json_patch.py; test-and-set under gunicorn: tests/system/test_state_json_patch_races.py)."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.rows import SQL_NULL

JSON_PATCH = "application/json-patch+json"
OLD = 1767225600
STATE = {"step": 3, "cart": {"apples": 1, "pears": 2}, "tags": ["a", "b"], "done": False}


def json_patch(client, session_id: str, body: object, query: str = "", content_type: str = JSON_PATCH):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.patch(f"/sessions/{session_id}/state{query}", data=data, content_type=content_type)


def seeded(rows, session_id: str = "s1", session_type: str = "agent", **fields) -> None:
    rows.session(session_id, session_type, component_id="basic-agent", user_id="u1", created_at=OLD,
                 session_data={"session_name": "Trip", "session_state": STATE, "session_metrics": {"total_tokens": 5}},
                 metadata={"m": 1}, **fields)


@pytest.mark.parametrize(("patch", "state"), [
    ([{"op": "add", "path": "/city", "value": "Osaka"}], {**STATE, "city": "Osaka"}),
    ([{"op": "add", "path": "/tags/1", "value": "z"}], {**STATE, "tags": ["a", "z", "b"]}),
    ([{"op": "remove", "path": "/cart/pears"}], {**STATE, "cart": {"apples": 1}}),
    ([{"op": "replace", "path": "/done", "value": True}], {**STATE, "done": True}),
    ([{"op": "move", "from": "/cart/apples", "path": "/apples"}], {**STATE, "cart": {"pears": 2}, "apples": 1}),
    ([{"op": "copy", "from": "/tags", "path": "/cart/tags"}], {**STATE, "cart": {"apples": 1, "pears": 2,
                                                                               "tags": ["a", "b"]}}),
    ([{"op": "test", "path": "/step", "value": 3}, {"op": "replace", "path": "/step", "value": 4}],
     {**STATE, "step": 4}),
    ([{"op": "add", "path": "/note", "value": "a\u0001b"}], {**STATE, "note": "ab"}),  # stripped, as agno strips
    ([], STATE),
])
def test_each_operation_is_written_to_the_row(client, rows, patch, state) -> None:
    seeded(rows)
    before = int(time.time())
    response = json_patch(client, "s1", patch)
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["session_state"] == state
    assert body["session_name"] == "Trip" and body["metadata"] == {"m": 1} and body["total_tokens"] == 5
    row = rows.session_row("s1")
    assert row["session_data"] == {"session_name": "Trip", "session_state": state,
                                   "session_metrics": {"total_tokens": 5}}
    assert row["metadata"] == {"m": 1} and row["created_at"] == OLD and row["updated_at"] >= before
    assert "Agno-Session-Applied" not in response.headers


def test_answer_matches_the_merge_patch_answer_byte_for_byte(client, rows) -> None:
    seeded(rows, "a")
    seeded(rows, "b")
    merged = client.patch("/sessions/a/state", data='{"step": 4}', content_type="application/merge-patch+json")
    patched = json_patch(client, "b", [{"op": "replace", "path": "/step", "value": 4}])
    assert patched.status_code == merged.status_code == 200
    assert patched.headers["Content-Type"] == merged.headers["Content-Type"]
    same = {"agent_session_id": "x", "session_id": "x", "updated_at": "t"}
    normal = [r.get_json() | same for r in (merged, patched)]
    assert normal[0] == normal[1] and list(merged.get_json()) == list(patched.get_json())


@pytest.mark.parametrize("session_data", [SQL_NULL, None, "junk", {"session_state": None}, {"session_state": [1]}])
def test_a_missing_or_non_object_state_is_patched_as_an_empty_object(client, rows, session_data) -> None:
    rows.session("n1", "agent", created_at=OLD, session_data=session_data)
    response = json_patch(client, "n1", [{"op": "test", "path": "", "value": {}}, {"op": "add", "path": "/a",
                                                                                    "value": 1}])
    assert response.status_code == 200, response.data
    assert rows.session_row("n1")["session_data"]["session_state"] == {"a": 1}


def test_team_and_workflow_rows_answer_in_their_own_shape(client, rows) -> None:
    rows.session("t1", "team", component_id="research-team", created_at=OLD)
    rows.session("w1", "workflow", component_id="wf", created_at=OLD, session_data={"session_state": {"a": 1}})
    team = json_patch(client, "t1", [{"op": "add", "path": "/k", "value": "v"}])
    assert team.status_code == 200 and team.get_json()["team_id"] == "research-team"
    flow = json_patch(client, "w1", [{"op": "move", "from": "/a", "path": "/b"}])
    assert flow.get_json()["session_data"] == {"session_state": {"b": 1}}


@pytest.mark.parametrize(("test", "pointer"), [
    ({"op": "test", "path": "/step", "value": 2}, "/step"),
    ({"op": "test", "path": "/done", "value": 0}, "/done"),
    ({"op": "test", "path": "/cart/plums", "value": None}, "/cart/plums"),
])
def test_a_failed_test_is_409_and_nothing_is_written(client, rows, test, pointer) -> None:
    seeded(rows)
    before = rows.snapshot()
    response = json_patch(client, "s1", [{"op": "replace", "path": "/step", "value": 99}, test,
                                         {"op": "add", "path": "/after", "value": 1}])
    assert (response.status_code, response.data) == (
        409, json.dumps({"detail": f"JSON Patch test failed at {pointer}"}, separators=(",", ":")).encode())
    assert response.content_type == "application/json"
    assert rows.snapshot() == before  # the replace before the test is rolled back with it


INVALID = [
    pytest.param([{"op": "add", "path": "/a"}], "missing", ["body", 0, "value"], id="no-value"),
    pytest.param({"op": "add", "path": "/a", "value": 1}, "list_type", ["body"], id="not-an-array"),
    pytest.param("null", "list_type", ["body"], id="null"),
    pytest.param(["add"], "model_attributes_type", ["body", 0], id="op-not-an-object"),
    pytest.param([{"op": "append", "path": "/a", "value": 1}], "enum", ["body", 0, "op"], id="unknown-op"),
    pytest.param([{"path": "/a"}], "missing", ["body", 0, "op"], id="no-op"),
    pytest.param([{"op": "remove"}], "missing", ["body", 0, "path"], id="no-path"),
    pytest.param([{"op": "remove", "path": 7}], "string_type", ["body", 0, "path"], id="path-not-a-string"),
    pytest.param([{"op": "move", "path": "/a"}], "missing", ["body", 0, "from"], id="no-from"),
    pytest.param([{"op": "copy", "path": "/a", "from": []}], "string_type", ["body", 0, "from"], id="from-ill-typed"),
    pytest.param([{"op": "remove", "path": "step"}], "json_pointer", ["body", 0, "path"], id="bad-pointer"),
    pytest.param([{"op": "copy", "path": "/a", "from": "/x~9"}], "json_pointer", ["body", 0, "from"],
                 id="bad-from-pointer"),
    pytest.param([{"op": "remove", "path": "/nope"}], "json_patch_conflict", ["body", 0], id="remove-missing"),
    pytest.param([{"op": "replace", "path": "/cart/nope", "value": 1}], "json_patch_conflict", ["body", 0],
                 id="replace-missing"),
    pytest.param([{"op": "move", "from": "/nope", "path": "/a"}], "json_patch_conflict", ["body", 0],
                 id="move-missing"),
    pytest.param([{"op": "copy", "from": "/tags/5", "path": "/a"}], "json_patch_conflict", ["body", 0],
                 id="copy-missing"),
    pytest.param([{"op": "add", "path": "/no/such/parent", "value": 1}], "json_patch_conflict", ["body", 0],
                 id="add-no-parent"),
    pytest.param([{"op": "replace", "path": "", "value": [1]}], "model_attributes_type", ["body"],
                 id="root-not-an-object"),
    pytest.param([{"op": "add", "path": "/k\u0000", "value": 1}], "string_pattern_mismatch", ["body", 0, "path"],
                 id="nul-key"),
    pytest.param('[{"op": "add", "path": "/a", "value": NaN}]', "finite_number", ["body", 0, "value"], id="nan"),
    pytest.param('[{"op": "add", "path": ', "json_invalid", ["body", 23], id="not-json"),
]


@pytest.mark.parametrize(("body", "kind", "loc"), INVALID)
def test_an_invalid_patch_is_422_and_nothing_is_written(client, rows, body, kind, loc) -> None:
    seeded(rows)
    before = rows.snapshot()
    response = json_patch(client, "s1", [{"op": "add", "path": "/first", "value": 1}] + body
                          if isinstance(body, list) and kind == "json_patch_conflict" else body)
    assert response.status_code == 422, response.data
    (error,) = response.get_json()["detail"]
    expected_loc = ["body", 1] if kind == "json_patch_conflict" else loc  # after an operation that did apply
    assert (error["type"], error["loc"]) == (kind, expected_loc), error
    assert error["msg"]
    assert rows.snapshot() == before


def test_the_patched_state_must_fit_the_answer_and_copies_are_bounded(client, rows) -> None:
    rows.session("w", "workflow", created_at=OLD, session_data={"session_state": {}})
    before = rows.snapshot()
    deep: object = 1
    for _ in range(251):
        deep = [deep]
    too_deep = json_patch(client, "w", [{"op": "add", "path": "/d", "value": {"e": deep}}])  # fine for an agent
    assert too_deep.status_code == 422 and too_deep.get_json()["detail"][0]["type"] == "too_deep"
    doubling = [{"op": "add", "path": "/d", "value": [1]}] + [{"op": "copy", "from": "/d", "path": "/d/-"}] * 20
    copies = json_patch(client, "w", doubling)
    assert copies.status_code == 422 and copies.get_json()["detail"][0]["type"] == "too_many_copies"
    assert rows.snapshot() == before
    assert json_patch(client, "w", [{"op": "add", "path": "/d", "value": deep}]).status_code == 200


def test_other_answers_are_the_merge_routes(client, rows) -> None:
    seeded(rows)
    before = rows.snapshot()
    patch = [{"op": "add", "path": "/a", "value": 1}]
    missing = json_patch(client, "nope", patch)
    assert (missing.status_code, missing.data) == (404, b'{"detail":"Session with id \'nope\' not found"}')
    assert json_patch(client, "s1", patch, "?user_id=u2").status_code == 404
    assert json_patch(client, "s1", patch, "?db_id=nope").status_code == 404
    assert json_patch(client, "s1", b"").get_json()["detail"][0]["type"] == "missing"
    assert json_patch(client, "s1", b'[{"op": "\xff"}]').status_code == 400
    assert rows.snapshot() == before
    charset = json_patch(client, "s1", patch, "?user_id=u1", content_type="Application/JSON-Patch+JSON; charset=utf-8")
    assert charset.status_code == 200 and charset.get_json()["session_state"]["a"] == 1


def test_merge_patch_is_still_the_default(client, rows) -> None:
    seeded(rows)
    array = [{"op": "add", "path": "/a", "value": 1}]
    for content_type in ("application/merge-patch+json", "application/json"):
        refused = json_patch(client, "s1", array, content_type=content_type)
        assert refused.status_code == 422 and refused.get_json()["detail"][0]["type"] == "model_attributes_type"
    merged = json_patch(client, "s1", {"step": None, "cart": {"pears": None}}, content_type="application/json")
    assert merged.get_json()["session_state"] == {"cart": {"apples": 1}, "tags": ["a", "b"], "done": False}


def test_capabilities_declare_the_extension(client) -> None:
    extensions = {e["name"]: e for e in client.get("/sessions/-/capabilities").get_json()["extensions"]}
    assert extensions["json-patch"]["version"] == 1
    assert extensions["json-patch"]["routes"] == extensions["state-merge"]["routes"] == [
        "PATCH /sessions/{session_id}/state"]
