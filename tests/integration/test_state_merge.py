"""PATCH /sessions/{id}/state (extension `state-merge`): RFC 7396 merge into session_state (the pure merge:
tests/unit/test_merge_patch.py; concurrency through gunicorn: tests/system/test_state_merge_concurrency.py)."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.rows import SQL_NULL

MERGE = "application/merge-patch+json"
OLD = 1767225600


def merge(client, session_id: str, body: object, query: str = "", content_type: str = MERGE):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.patch(f"/sessions/{session_id}/state{query}", data=data, content_type=content_type)


# --------------------------------------------------------------------------- the route


def test_nested_merge_delete_and_replace(client, rows) -> None:
    rows.session("s1", "agent", component_id="basic-agent", user_id="u1", created_at=OLD,
                 session_data={"session_name": "Trip", "session_state": {
                     "city": "Tokyo", "days": 3, "cart": {"apples": 1, "pears": 2}, "tags": ["a"], "gone": True},
                     "session_metrics": {"total_tokens": 5}},
                 metadata={"m": 1})
    before = int(time.time())
    response = merge(client, "s1", {"days": None, "cart": {"pears": None, "plums": 4}, "tags": {"x": 1},
                                    "gone": None, "city": "Osaka", "new": {"deep": {"er": None, "est": "\x01x"}}})
    assert response.status_code == 200, response.data
    state = {"city": "Osaka", "cart": {"apples": 1, "plums": 4}, "tags": {"x": 1}, "new": {"deep": {"est": "x"}}}
    body = response.get_json()
    assert body["session_state"] == state
    assert body["session_name"] == "Trip" and body["metadata"] == {"m": 1} and body["total_tokens"] == 5
    assert body["agent_session_id"] == "s1" and "session_summary" in body and body["session_summary"] is None
    row = rows.session_row("s1")
    assert row["session_data"] == {"session_name": "Trip", "session_state": state,
                                   "session_metrics": {"total_tokens": 5}}
    assert row["metadata"] == {"m": 1} and row["created_at"] == OLD and row["updated_at"] >= before > OLD
    assert body["updated_at"] != body["created_at"]
    again = merge(client, "s1", {"cart": {"apples": 2}}, content_type="application/json")
    assert again.get_json()["session_state"]["cart"] == {"apples": 2, "plums": 4}


def test_answers_in_the_rows_own_shape_like_patch(client, rows) -> None:
    rows.session("t1", "team", component_id="research-team", created_at=OLD)
    rows.session("w1", "workflow", component_id="wf", created_at=OLD, session_data={"session_state": {"a": 1}})
    team = merge(client, "t1", {"k": "v"})
    assert team.status_code == 200 and team.get_json()["team_id"] == "research-team"
    assert team.get_json()["session_state"] == {"k": "v"}
    flow = merge(client, "w1", {"b": 2})
    assert flow.get_json()["session_data"] == {"session_state": {"a": 1, "b": 2}}
    assert flow.get_json()["session_state"] == {"a": 1, "b": 2}
    patched = client.patch("/sessions/t1", json={"session_state": {"k": "v"}})
    assert list(patched.get_json()) == list(team.get_json())


@pytest.mark.parametrize("session_data", [SQL_NULL, None, "junk", [1]])
def test_null_or_malformed_session_data_becomes_an_object(client, rows, session_data) -> None:
    rows.session("n1", "agent", created_at=OLD, session_data=session_data)
    response = merge(client, "n1", {"a": {"b": 1}, "c": None})
    assert response.status_code == 200, response.data
    assert rows.session_row("n1")["session_data"] == {"session_state": {"a": {"b": 1}}}


def test_non_object_state_is_replaced_and_empty_patch_keeps_it(client, rows) -> None:
    rows.session("n2", "agent", created_at=OLD, session_data={"session_name": "x", "session_state": [1, 2]})
    assert merge(client, "n2", {}).get_json()["session_state"] == {}
    assert merge(client, "n2", {"a": 1}).get_json()["session_state"] == {"a": 1}
    assert merge(client, "n2", {}).get_json()["session_state"] == {"a": 1}
    assert rows.session_row("n2")["session_data"] == {"session_name": "x", "session_state": {"a": 1}}


def test_runs_are_in_the_answer_and_untouched(client, rows) -> None:
    rows.session("r1", "agent", component_id="a", created_at=OLD)
    rows.run("r1", {"run_id": "run-1", "agent_id": "a", "status": "COMPLETED", "messages": [
        {"id": "m1", "role": "user", "content": "hi", "created_at": OLD}]})
    runs_before = rows.snapshot()[1]
    response = merge(client, "r1", {"x": 1})
    assert [m["id"] for m in response.get_json()["chat_history"]] == ["m1"]
    assert rows.snapshot()[1] == runs_before


def test_missing_session_or_other_user_is_404(client, rows) -> None:
    rows.session("mine", "agent", user_id="u1", created_at=OLD, session_data={"session_state": {"a": 1}})
    before = rows.snapshot()
    missing = merge(client, "nope", {"a": 1})
    assert (missing.status_code, missing.data) == (404, b'{"detail":"Session with id \'nope\' not found"}')
    other = merge(client, "mine", {"a": 2}, "?user_id=u2")
    assert (other.status_code, other.data) == (404, b'{"detail":"Session with id \'mine\' not found"}')
    assert rows.snapshot() == before
    assert merge(client, "mine", {"a": 2}, "?user_id=u1").get_json()["session_state"] == {"a": 2}


def test_bad_requests_change_nothing(client, rows) -> None:
    rows.session("s", "agent", created_at=OLD, session_data={"session_state": {"a": 1}})
    rows.session("wf", "workflow", created_at=OLD)
    before = rows.snapshot()

    def detail(response, status: int = 422) -> list:
        assert response.status_code == status, response.data
        return response.get_json()["detail"]

    assert detail(merge(client, "s", [1])) == [{"type": "model_attributes_type", "loc": ["body"], "msg": (
        "Input should be a valid dictionary or object to extract fields from"), "input": [1]}]
    assert detail(merge(client, "s", "null"))[0]["type"] == "model_attributes_type"
    assert detail(merge(client, "s", "hello", content_type="text/plain"))[0] == {
        "type": "model_attributes_type", "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from", "input": "hello"}
    assert detail(merge(client, "s", '{"a": ')) == [{"type": "json_invalid", "loc": ["body", 6],
                                                      "msg": "JSON decode error", "input": {},
                                                      "ctx": {"error": "Expecting value"}}]
    assert detail(client.patch("/sessions/s/state")) == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    nul_key = detail(merge(client, "s", {"x": {"a\u0000b": 1}}))
    assert nul_key[0]["type"] == "string_pattern_mismatch" and nul_key[0]["loc"] == ["body", "x", "a\u0000b", "[key]"]
    assert detail(merge(client, "s", '{"a": NaN}'))[0]["type"] == "finite_number"
    assert detail(merge(client, "s", {"a": 1}, "?user_id=a%00b"))[0]["loc"] == ["query", "user_id"]
    query_and_body = detail(merge(client, "s", [1], "?user_id=1&db_id=2&user_id=a%00"))
    assert [e["type"] for e in query_and_body] == ["model_attributes_type"]
    deep: object = 1
    for _ in range(254):
        deep = [deep]
    assert detail(merge(client, "s", {"d": deep}))[0]["type"] == "too_deep"
    shallower: object = 1
    for _ in range(252):
        shallower = [shallower]
    workflow = detail(merge(client, "wf", {"d": shallower}))  # fine for an agent, too deep inside session_data
    assert workflow[0]["type"] == "too_deep" and workflow[0]["ctx"] == {"max_depth": 253}
    assert detail(merge(client, "s", b'{"a": "\xff"}'), 400) == "There was an error parsing the body"
    assert detail(merge(client, "s", {}, "?table=agno_sessions"), 400) == (
        "The db_id query parameter is required when passing a table")
    assert detail(merge(client, "s", {}, "?db_id=nope"), 404) == "No database found with id 'nope'"
    assert client.get("/sessions/s/state").status_code == 405
    assert rows.snapshot() == before
    assert merge(client, "s", {"d": shallower}).status_code == 200  # 253 levels fit an agent's answer


def test_replace_semantics_of_agentos_patch_are_unchanged(client, rows) -> None:
    rows.session("p", "agent", created_at=OLD, session_data={"session_state": {"a": 1, "b": {"c": 2}}})
    response = client.patch("/sessions/p", json={"session_state": {"b": {"d": 3}}})
    assert response.get_json()["session_state"] == {"b": {"d": 3}}
