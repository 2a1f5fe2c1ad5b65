"""Create, PATCH, rename and delete: answers, and the rows they leave exactly as agno's writes would."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.rows import SQL_NULL

ISO_NOW = re.compile(rb'"created_at":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)","updated_at":"\1"}$')


def post(client, path: str, body: object = None, **kwargs):
    return client.post(path, json=body, **kwargs) if body is not None else client.post(path, **kwargs)


def test_create_agent_session_answer_and_row(client, rows) -> None:
    before = int(time.time())
    response = post(client, "/sessions", {
        "session_id": "created-agent-1", "session_name": "Created agent session", "user_id": "user-7",
        "session_state": {"step": 1, "nested": {"a": [1, 2]}}, "agent_id": "basic-agent", "team_id": "ignored",
        "metadata": {"source": "api", "agno_dispatch_depth": 3}})
    assert response.status_code == 201
    assert response.data.startswith(
        b'{"user_id":"user-7","agent_session_id":"created-agent-1","session_id":"created-agent-1",'
        b'"session_name":"Created agent session","session_state":{"step":1,"nested":{"a":[1,2]}},'
        b'"agent_id":"basic-agent","metrics":{},"metadata":{"source":"api"},"chat_history":[],')
    assert ISO_NOW.search(response.data)
    row = rows.session_row("created-agent-1")
    assert row["session_data"] == {"session_name": "Created agent session",
                                   "session_state": {"step": 1, "nested": {"a": [1, 2]}}}
    assert row["json_types"] == {"sd": "object", "ad": "null", "td": None, "wd": None, "md": "object", "su": "null"}
    assert row["team_id"] is None and row["created_at"] == row["updated_at"] >= before


def test_create_without_body_generates_an_id(client, rows) -> None:
    response = client.post("/sessions")
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"[0-9a-f-]{36}", body["session_id"]) and body["agent_session_id"] == body["session_id"]
    assert list(body) == ["agent_session_id", "session_id", "session_name", "chat_history", "created_at", "updated_at"]
    row = rows.session_row(body["session_id"])
    assert row["json_types"] == {"sd": "null", "ad": "null", "td": None, "wd": None, "md": "null", "su": "null"}


def test_create_workflow_gets_empty_objects_and_team_its_shape(client, rows) -> None:
    wf = post(client, "/sessions?type=workflow", {"session_id": "created-wf-2"})
    assert wf.data.startswith(b'{"session_id":"created-wf-2","session_name":"","session_data":{},"workflow_data":{},'
                              b'"metadata":{},"created_at":"')
    assert rows.session_row("created-wf-2")["json_types"] == {"sd": "object", "ad": None, "td": None, "wd": "object",
                                                              "md": "object", "su": "null"}
    team = post(client, "/sessions?type=team", {"session_id": "t", "team_id": "research-team", "agent_id": "x"})
    assert team.get_json()["team_id"] == "research-team" and rows.session_row("t")["agent_id"] is None


def test_duplicate_id_is_409_across_types_and_changes_nothing(client, rows) -> None:
    rows.session("taken", "team", session_data={"session_name": "keep"})
    before = rows.snapshot()
    response = post(client, "/sessions?type=agent", {"session_id": "taken", "session_name": "overwrite"})
    assert response.status_code == 409
    assert response.data == (b'{"detail":"Session with id \'taken\' already exists. '
                             b'Use PATCH /sessions/taken to update it."}')
    assert rows.snapshot() == before


def test_create_rejects_bad_bodies_without_writing(client, rows) -> None:
    before = rows.snapshot()
    bad = post(client, "/sessions", {"session_id": 123, "session_state": "x"})
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.get_json()["detail"]] == [["body", "session_id"], ["body", "session_state"]]
    malformed = client.post("/sessions", data='{"session_id": "x",', content_type="application/json")
    assert malformed.data == (b'{"detail":[{"type":"json_invalid","loc":["body",19],"msg":"JSON decode error",'
                              b'"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}')
    text = client.post("/sessions", data="hello", content_type="text/plain")
    assert text.get_json()["detail"][0]["type"] == "model_attributes_type"
    assert rows.snapshot() == before


def test_create_with_preloaded_runs_and_summary(client, rows) -> None:
    runs = [
        {"run_id": "imp-1", "agent_id": "basic-agent", "status": "COMPLETED", "created_at": 1767225610,
         "input": {"input_content": "Hello"},
         "messages": [{"id": "m1", "role": "user", "content": "Hello", "created_at": 1767225610}]},
        {"run_id": "imp-2", "agent_id": "basic-agent", "status": "ERROR", "created_at": 1767225620,
         "messages": [{"id": "m2", "role": "user", "content": "Again", "created_at": 1767225620}]},
    ]
    response = post(client, "/sessions", {"session_id": "imported", "user_id": "u", "runs": runs,
                                          "summary": {"summary": "Imported.", "topics": ["x"]}})
    assert response.status_code == 201
    body = response.get_json()
    assert [m["id"] for m in body["chat_history"]] == ["m1", "m2"]
    assert body["session_name"] == "Hello"
    assert body["session_summary"] == {"summary": "Imported.", "topics": ["x"]}
    assert rows.run_ids("imported") == ["imp-1", "imp-2"]
    run_rows = rows.execute("SELECT run_type, user_id, status, run_index, run_data->>'session_id' "
                            "FROM ai.agno_runs ORDER BY run_index")
    assert run_rows == [("agent", "u", "COMPLETED", 0, "imported"), ("agent", "u", "ERROR", 1, "imported")]
    assert [r["run_id"] for r in client.get("/sessions/imported/runs").get_json()] == ["imp-1", "imp-2"]


def test_preloaded_run_conflict_rolls_back_the_session(client, rows) -> None:
    rows.session("other", "agent")
    rows.run("other", {"run_id": "dup", "agent_id": "a"})
    before = rows.snapshot()
    response = post(client, "/sessions", {"session_id": "new", "runs": [{"run_id": "dup", "agent_id": "a"}]})
    assert response.status_code == 409
    assert rows.snapshot() == before


def test_preloaded_runs_need_a_string_run_id(client, rows) -> None:
    response = post(client, "/sessions", {"session_id": "new", "runs": [{"agent_id": "a"}]})
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "runs", 0, "run_id"]
    assert rows.session_row("new") is None


@pytest.fixture
def team_session(rows):
    rows.session("team-sess-2", "team", component_id="research-team", user_id="user-2", created_at=1767229200,
                 session_data={"session_state": {"topic": "none"}}, team_data={"name": "Research Team"},
                 metadata={"keep": True}, summary={"summary": "old", "topics": None})
    rows.run("team-sess-2", {"run_id": "tr", "team_id": "research-team",
                             "messages": [{"id": "q", "role": "user", "content": "Compare Rust and Go",
                                           "created_at": 1767229210}]})
    return rows


def test_patch_applies_fields_and_answers_with_nulls(client, team_session) -> None:
    before = int(time.time())
    response = client.patch("/sessions/team-sess-2", json={
        "session_name": "Compare Rust and Go", "metadata": {"x": 1, "agno_component_version": "9"},
        "session_state": None, "summary": None})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["session_id", "session_name", "user_id", "team_id", "session_summary", "session_state",
                          "metrics", "team_data", "metadata", "chat_history", "created_at", "updated_at",
                          "total_tokens"]
    assert body["total_tokens"] is None and body["metadata"] == {"x": 1}
    assert body["session_state"] == {"topic": "none"}  # explicit null is a no-op
    row = team_session.session_row("team-sess-2")
    assert row["session_data"] == {"session_name": "Compare Rust and Go", "session_state": {"topic": "none"}}
    assert row["summary"] == {"summary": "old"}  # re-written through SessionSummary: None keys dropped
    assert row["updated_at"] >= before and row["created_at"] == 1767229200


def test_patch_summary_is_validated_and_nothing_changes(client, team_session) -> None:
    before = team_session.snapshot()
    response = client.patch("/sessions/team-sess-2", json={"summary": {"topics": ["a"]}})
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "summary", "summary"]
    assert team_session.snapshot() == before
    summary = {"summary": "new", "updated_at": "2026-01-02 03:04:05"}
    ok = client.patch("/sessions/team-sess-2", json={"summary": summary})
    assert ok.get_json()["session_summary"] == {"summary": "new", "updated_at": "2026-01-02T03:04:05"}


def test_patch_with_wrong_type_writes_that_types_columns(client, team_session) -> None:
    response = client.patch("/sessions/team-sess-2?type=agent", json={"metadata": {"m": 2}})
    assert response.status_code == 200
    assert "team_id" in response.get_json()  # rendered from the row's real type
    row = team_session.session_row("team-sess-2")
    assert row["session_type"] == "team" and row["json_types"]["ad"] == "null" and row["team_id"] == "research-team"


def test_patch_creates_session_data_for_null_rows(client, rows) -> None:
    rows.session("sqlnull", "agent", session_data=SQL_NULL)
    response = client.patch("/sessions/sqlnull", json={"session_state": {"k": 1}})
    assert response.get_json()["session_state"] == {"k": 1}
    assert rows.session_row("sqlnull")["session_data"] == {"session_state": {"k": 1}}


def test_patch_404_and_body_required(client, team_session) -> None:
    assert client.patch("/sessions/missing", json={}).data == b'{"detail":"Session with id \'missing\' not found"}'
    assert client.patch("/sessions/team-sess-2?user_id=other", json={}).status_code == 404
    missing = client.patch("/sessions/team-sess-2")
    assert missing.data == b'{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}'


def test_rename_keeps_updated_at_and_answers_with_nulls(client, team_session) -> None:
    response = post(client, "/sessions/team-sess-2/rename", {"session_name": "Now explicit"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["session_name"] == "Now explicit" and body["total_tokens"] is None
    row = team_session.session_row("team-sess-2")
    assert row["session_data"]["session_name"] == "Now explicit" and row["updated_at"] == 1767229200


def test_rename_type_is_a_filter(client, team_session) -> None:
    before = team_session.snapshot()
    wrong = post(client, "/sessions/team-sess-2/rename?type=agent", {"session_name": "x"})
    assert wrong.status_code == 404 and wrong.data == b'{"detail":"Session with id \'team-sess-2\' not found"}'
    assert team_session.snapshot() == before


def test_rename_on_sql_null_and_json_null_session_data(client, rows) -> None:
    rows.session("sqlnull", "agent", session_data=SQL_NULL)
    rows.session("jsonnull", "agent", session_data=None)
    assert post(client, "/sessions/sqlnull/rename", {"session_name": "x"}).get_json()["session_name"] == ""
    assert rows.session_row("sqlnull")["session_data"] is None  # AgentOS: silently nothing stored
    renamed = post(client, "/sessions/jsonnull/rename", {"session_name": "named"})
    assert renamed.status_code == 200 and renamed.get_json()["session_name"] == "named"  # AgentOS: 500
    assert rows.session_row("jsonnull")["session_data"] == {"session_name": "named"}


def test_rename_strips_nul_and_validates(client, team_session) -> None:
    assert post(client, "/sessions/team-sess-2/rename", {"session_name": "a\u0000b"}).get_json()["session_name"] == "ab"
    bad = post(client, "/sessions/team-sess-2/rename", {"session_name": 5})
    assert bad.status_code == 422 and bad.get_json()["detail"][0]["type"] == "string_type"


def test_delete_one_removes_runs_and_is_always_204(client, team_session) -> None:
    assert client.delete("/sessions/team-sess-2?user_id=other").status_code == 204
    assert team_session.session_row("team-sess-2") is not None
    response = client.delete("/sessions/team-sess-2")
    assert response.status_code == 204 and response.data == b""
    assert team_session.session_row("team-sess-2") is None and team_session.run_ids("team-sess-2") == []
    assert client.delete("/sessions/team-sess-2").status_code == 204
    media = client.delete("/sessions/x?delete_media=true")
    assert media.status_code == 503 and media.data == b'{"detail":"Media storage is not configured on AgentOS"}'


def test_bulk_delete(client, rows) -> None:
    for sid, user in (("a", "u1"), ("b", "u2"), ("c", "u1")):
        rows.session(sid, "agent", user_id=user)
        rows.run(sid, {"run_id": f"run-{sid}", "agent_id": "x"}, user_id=user)
    mismatch = client.delete("/sessions", json={"session_ids": ["a", "b"], "session_types": ["agent"]})
    assert mismatch.data == b'{"detail":"Session IDs and session types must have the same length"}'
    response = client.delete("/sessions?user_id=u1", json={"session_ids": ["a", "b", "zzz"],
                                                          "session_types": ["agent", "team", "workflow"]})
    assert response.status_code == 204
    assert [r[0] for r in rows.execute("SELECT session_id FROM ai.agno_sessions ORDER BY 1")] == ["b", "c"]
    assert [r[0] for r in rows.execute("SELECT run_id FROM ai.agno_runs ORDER BY 1")] == ["run-b", "run-c"]
    empty = client.delete("/sessions", json={"session_ids": [], "session_types": []})
    assert empty.status_code == 422 and empty.get_json()["detail"][0]["type"] == "too_short"


def test_repeated_preloaded_run_ids_conflict(client, rows) -> None:
    response = post(client, "/sessions", {"session_id": "new", "runs": [{"run_id": "r", "agent_id": "a"},
                                                                        {"run_id": "r", "agent_id": "a"}]})
    assert response.status_code == 409 and response.data == b'{"detail":"Run with id \'r\' already exists"}'
    assert rows.session_row("new") is None


def test_patch_as_workflow_writes_empty_objects_for_nulls(client, rows) -> None:
    rows.session("jn-wf", "workflow", session_data=None, workflow_data=None, metadata=None)
    response = client.patch("/sessions/jn-wf", json={})
    assert response.status_code == 200
    assert rows.session_row("jn-wf")["json_types"] == {"sd": "object", "ad": None, "td": None, "wd": "object",
                                                       "md": "object", "su": "null"}


def test_patch_as_another_type_answers_from_the_runs_that_type_keeps(client, rows) -> None:
    rows.session("ag", "agent", component_id="a")
    rows.run("ag", {"run_id": "r", "agent_id": "a", "messages": [{"id": "m", "role": "user", "content": "hi",
                                                                  "created_at": 1767225600}]})
    as_agent = client.patch("/sessions/ag", json={}).get_json()
    assert [m["id"] for m in as_agent["chat_history"]] == ["m"] and as_agent["session_name"] == "hi"
    as_workflow = client.patch("/sessions/ag?type=workflow", json={}).get_json()
    assert as_workflow["chat_history"] == [] and as_workflow["session_name"] == ""  # agent shape, no runs kept


def test_writes_strip_the_characters_agno_strips_from_json_values(client, rows) -> None:
    """agno's sanitizer: C0 controls but tab/newline/CR, and U+FFFE/U+FFFF, from values; keys and ids kept."""
    response = post(client, "/sessions", {
        "session_id": "cc\u0001id", "session_name": "a\u0001b\u001fc\u007fd\ufffee\uffff\tf\ng\rh\u000bi\u000cj",
        "session_state": {"k\u0001ey": "v\u0002al", "l": ["\u0003"]}, "metadata": {"m": "x\u0004y"}})
    assert response.status_code == 201
    row = rows.session_row("cc\u0001id")
    assert row["session_data"] == {"session_name": "abc\u007fde\tf\ng\rhij",
                                   "session_state": {"k\u0001ey": "val", "l": [""]}}
    assert row["metadata"] == {"m": "xy"}
    renamed = post(client, "/sessions/cc%01id/rename", {"session_name": "r\u0001\uffff"})
    assert renamed.get_json()["session_name"] == "r"
    client.patch("/sessions/cc%01id", json={"summary": {"summary": "s\u0001", "topics": ["t\u0002"]}})
    assert rows.session_row("cc\u0001id")["summary"] == {"summary": "s", "topics": ["t"]}


def test_typed_patch_names_the_session_from_the_runs_read_as_that_type(client, rows) -> None:
    """PATCH ?type=agent on a workflow row: agno reads it as an agent session (agent-shaped runs, inputs
    round-tripped) and names it by the workflow rule, the row's own type."""
    rows.session("wf", "workflow", component_id="content-workflow", workflow_data={"name": "Content Workflow"})
    rows.run("wf", {"run_id": "step", "agent_id": "writer", "workflow_id": "content-workflow",
                    "input": {"input_content": "standalone step run"}}, run_index=0)
    rows.run("wf", {"run_id": "main", "workflow_id": "content-workflow", "input": "Write"}, run_index=1)
    assert client.patch("/sessions/wf", json={}).get_json()["session_name"] == "Write"
    as_agent = client.patch("/sessions/wf?type=agent", json={}).get_json()
    assert as_agent["session_name"] == '{"input_content": "standalone step run"}'
