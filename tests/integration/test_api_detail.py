"""GET /sessions/{id}, its runs, run previews and single runs, on rows written the way agno writes them."""

from __future__ import annotations

import pytest

SYSTEM = {"id": "m-sys-run-a1", "role": "system", "content": "You are a helpful assistant.", "created_at": 1767225610,
          "from_history": False, "stop_after_tool_call": False}


def message(mid: str, role: str, content: str, at: int, **extra: object) -> dict:
    return {"id": mid, "role": role, "content": content, "created_at": at, "from_history": False,
            "stop_after_tool_call": False, **extra}


RUN_A1 = {
    "input": {"input_content": "Plan a trip to Tokyo"}, "model": "gpt-4o", "run_id": "run-a1", "status": "COMPLETED",
    "content": "Day 1: Asakusa...",
    "metrics": {"duration": 1.25, "input_tokens": 20, "total_tokens": 30, "output_tokens": 10,
                "time_to_first_token": 0.5},
    "user_id": "user-1", "agent_id": "basic-agent",
    "messages": [SYSTEM, message("m-usr-run-a1", "user", "Plan a trip to Tokyo", 1767225610),
                 message("m-ast-run-a1", "assistant", "Day 1: Asakusa...", 1767225611,
                         metrics={"input_tokens": 20, "total_tokens": 30, "output_tokens": 10})],
    "agent_name": "Basic Agent", "created_at": 1767225610, "session_id": "agent-sess-1", "content_type": "str",
    "model_provider": "OpenAI",
}


@pytest.fixture
def agent_session(rows):
    rows.session(
        "agent-sess-1", "agent", component_id="basic-agent", user_id="user-1", created_at=1767225600,
        session_data={"session_name": "Trip planning", "session_state": {"city": "Tokyo", "days": 3},
                      "session_metrics": {"input_tokens": 40, "total_tokens": 60, "output_tokens": 20}},
        agent_data={"name": "Basic Agent", "model": {"id": "gpt-4o", "name": "OpenAIChat", "provider": "OpenAI"},
                    "agent_id": "basic-agent"},
        metadata={"tag": "demo"},
        summary={"summary": "The user asked for a Tokyo itinerary.", "topics": ["travel", "japan"],
                 "updated_at": "2026-01-01T02:00:00"},
    )
    rows.run("agent-sess-1", RUN_A1, run_index=0, user_id="user-1", created_at=1767225610)
    return rows


def test_agent_detail_matches_the_recorded_agentos_answer(client, agent_session) -> None:
    response = client.get("/sessions/agent-sess-1")
    assert response.status_code == 200
    assert response.data == (
        b'{"user_id":"user-1","agent_session_id":"agent-sess-1","session_id":"agent-sess-1",'
        b'"session_name":"Trip planning","session_summary":{"summary":"The user asked for a Tokyo itinerary.",'
        b'"topics":["travel","japan"],"updated_at":"2026-01-01T02:00:00"},"session_state":{"city":"Tokyo","days":3},'
        b'"agent_id":"basic-agent","total_tokens":60,"agent_data":{"name":"Basic Agent","model":{"id":"gpt-4o",'
        b'"name":"OpenAIChat","provider":"OpenAI"},"agent_id":"basic-agent"},"metrics":{"input_tokens":40,'
        b'"total_tokens":60,"output_tokens":20},"metadata":{"tag":"demo"},"chat_history":[{"id":"m-usr-run-a1",'
        b'"content":"Plan a trip to Tokyo","from_history":false,"stop_after_tool_call":false,"role":"user",'
        b'"created_at":1767225610},{"id":"m-ast-run-a1","content":"Day 1: Asakusa...","from_history":false,'
        b'"stop_after_tool_call":false,"role":"assistant","metrics":{"input_tokens":20,"output_tokens":10,'
        b'"total_tokens":30},"created_at":1767225611}],"created_at":"2026-01-01T00:00:00Z",'
        b'"updated_at":"2026-01-01T00:00:00Z"}'
    )


def test_bare_agent_row_and_the_three_404_wordings(client, rows) -> None:
    rows.session("agent-sess-3", "agent", component_id="basic-agent", created_at=1767232800)
    assert client.get("/sessions/agent-sess-3").data == (
        b'{"agent_session_id":"agent-sess-3","session_id":"agent-sess-3","session_name":"","agent_id":"basic-agent",'
        b'"chat_history":[],"created_at":"2026-01-01T02:00:00Z","updated_at":"2026-01-01T02:00:00Z"}'
    )
    assert client.get("/sessions/missing").data == b'{"detail":"Session with id \'missing\' not found"}'
    assert client.get("/sessions/missing?type=team").data == b'{"detail":"Team Session with id \'missing\' not found"}'
    assert client.get("/sessions/agent-sess-3?user_id=someone").status_code == 404
    assert client.get("/sessions/missing/runs").data == b'{"detail":"Session with ID missing not found"}'


def test_type_param_renders_another_shape_without_filtering(client, agent_session) -> None:
    body = client.get("/sessions/agent-sess-1?type=workflow").get_json()
    assert list(body)[:4] == ["user_id", "session_id", "session_name", "session_data"]  # workflow_id null: dropped
    assert "chat_history" not in body and body["session_data"]["session_name"] == "Trip planning"


def test_team_detail_skips_member_runs_and_puts_total_tokens_last(client, rows) -> None:
    rows.session("team-sess-1", "team", component_id="research-team", user_id="user-1", created_at=1767227400,
                 session_data={"session_name": "Team research", "session_state": {"topic": "LLMs"},
                               "session_metrics": {"input_tokens": 50, "total_tokens": 75, "output_tokens": 25}},
                 team_data={"name": "Research Team"}, metadata={"project": "alpha"},
                 summary={"summary": "Team researched LLMs."})
    rows.run("team-sess-1", {"run_id": "run-t1", "team_id": "research-team", "created_at": 1767227410, "messages": [
        message("m-usr-run-t1", "user", "Research LLM history", 1767227410)]}, run_index=0)
    rows.run("team-sess-1", {"run_id": "run-t1-m1", "agent_id": "researcher", "parent_run_id": "run-t1",
                             "messages": [message("m-member", "user", "member", 1767227412)]}, run_index=1)
    body = client.get("/sessions/team-sess-1").get_json()
    assert [m["id"] for m in body["chat_history"]] == ["m-usr-run-t1"]
    assert list(body)[-1] == "total_tokens" and body["total_tokens"] == 75
    runs = client.get("/sessions/team-sess-1/runs").get_json()
    assert [(r["run_id"], "team_id" in r) for r in runs] == [("run-t1", True), ("run-t1-m1", False)]


def test_workflow_detail_shape(client, rows) -> None:
    rows.session("wf-sess-1", "workflow", component_id="content-workflow", user_id="user-1", created_at=1767226500,
                 session_data={"session_state": {"draft": 1}},
                 workflow_data={"name": "Content Workflow", "steps": [{"name": "write", "type": "Step",
                                                                       "description": None}],
                                "workflow_id": "content-workflow"},
                 metadata={"k": "v"})
    rows.run("wf-sess-1", {"run_id": "run-w1", "workflow_id": "content-workflow", "input": "Write about AI",
                           "created_at": 1767226510})
    assert client.get("/sessions/wf-sess-1").data == (
        b'{"user_id":"user-1","workflow_id":"content-workflow","session_id":"wf-sess-1",'
        b'"session_name":"Write about AI","session_data":{"session_state":{"draft":1}},'
        b'"session_state":{"draft":1},"workflow_data":{"name":"Content Workflow","steps":[{"name":"write",'
        b'"type":"Step","description":null}],"workflow_id":"content-workflow"},"metadata":{"k":"v"},'
        b'"created_at":"2026-01-01T00:15:00Z","updated_at":"2026-01-01T00:15:00Z"}'
    )


def test_agent_runs_element_is_byte_exact(client, agent_session) -> None:
    response = client.get("/sessions/agent-sess-1/runs")
    assert response.data.startswith(
        b'[{"run_id":"run-a1","parent_run_id":"","agent_id":"basic-agent","user_id":"user-1","status":"COMPLETED",'
        b'"run_input":"Plan a trip to Tokyo","content":"Day 1: Asakusa...","run_response_format":"text",'
        b'"reasoning_content":"","reasoning_steps":[],"metrics":{"duration":1.25,"input_tokens":20,'
        b'"total_tokens":30,"output_tokens":10,"time_to_first_token":0.5},"messages":[{"id":"m-sys-run-a1",'
    )
    assert response.data.endswith(
        b'"created_at":"2026-01-01T00:00:10Z","references":[],"reasoning_messages":[],"images":[],"videos":[],'
        b'"audio":[],"files":[],"input_media":{"images":[],"videos":[],"audios":[],"files":[]}}]'
    )


def test_single_run_includes_nulls(client, agent_session) -> None:
    response = client.get("/sessions/agent-sess-1/runs/run-a1")
    body = response.get_json()
    assert response.status_code == 200
    assert body["cancellation_stage"] is None and body["metadata"] is None and body["tools"] is None
    assert b'"followups":null,"forked_from_run_id":null' in response.data
    assert list(body)[-1] == "last_checkpoint_at_message_index"


def test_single_run_404_wordings(client, agent_session, rows) -> None:
    rows.session("empty", "agent")
    assert client.get("/sessions/empty/runs/x").data == b'{"detail":"Session with ID empty has no runs"}'
    assert client.get("/sessions/agent-sess-1/runs/x").data == (
        b'{"detail":"Run with ID x not found in session agent-sess-1"}')
    assert client.get("/sessions/nope/runs/x").data == b'{"detail":"Session with ID nope not found"}'


def test_run_filters_by_status_and_time(client, rows) -> None:
    rows.session("s", "agent")
    for i, status in enumerate(["COMPLETED", "ERROR", "paused", None]):
        run = {"run_id": f"r{i}", "agent_id": "a", "created_at": 1767225600 + i * 100}
        if status:
            run["status"] = status
        rows.run("s", run, run_index=i)

    def ids(query: str) -> list[str]:
        return [r["run_id"] for r in client.get(f"/sessions/s/runs{query}").get_json()]

    assert ids("") == ["r0", "r1", "r2", "r3"]
    assert ids("?status=error&status=PAUSED") == ["r1", "r2"]
    assert ids("?created_after=1767225700&created_before=1767225800") == ["r1", "r2"]
    bad = client.get("/sessions/s/runs?status=done&status=bogus")
    assert bad.status_code == 400 and bad.data == (
        b'{"detail":"Invalid status value(s) [\'BOGUS\', \'DONE\']; expected one of [\'CANCELLED\', \'COMPLETED\', '
        b'\'ERROR\', \'PAUSED\', \'PENDING\', \'REGENERATED\', \'RUNNING\']"}')
    assert client.get("/sessions/nope/runs?status=bogus").status_code == 400  # checked before the lookup


def test_run_previews_truncate_and_dump_content(client, rows) -> None:
    rows.session("wf", "workflow", component_id="content-workflow", user_id="user-2")
    rows.run("wf", {"run_id": "run-w2", "workflow_id": "content-workflow", "user_id": "user-2", "status": "RUNNING",
                    "input": {"topic": "space", "words": 100}, "content": {"title": "Space"},
                    "created_at": 1767234610})
    assert client.get("/sessions/wf/run-previews").data == (
        b'[{"run_id":"run-w2","workflow_id":"content-workflow","user_id":"user-2","status":"RUNNING",'
        b'"run_input":"{\\n  \\"topic\\": \\"space\\",\\n  \\"words\\": 100\\n}",'
        b'"content_preview":"{\\"title\\": \\"Space\\"}","created_at":"2026-01-01T02:30:10Z"}]'
    )
    rows.session("long", "agent")
    rows.run("long", {"run_id": "l1", "agent_id": "a", "input": {"input_content": "x" * 400}, "content": "y" * 300})
    (preview,) = client.get("/sessions/long/run-previews").get_json()
    assert len(preview["run_input"]) == 280 and len(preview["content_preview"]) == 280


def test_null_session_metrics_renders_instead_of_failing(client, rows) -> None:
    rows.session("nm", "agent", session_data={"session_name": "n", "session_metrics": None})
    response = client.get("/sessions/nm")
    assert response.status_code == 200
    body = response.get_json()
    assert body["metrics"] == {} and "total_tokens" not in body
