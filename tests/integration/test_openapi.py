"""openapi.yaml: served as YAML and JSON, documenting every route, and every real response conforms to it (the
document on its own: tests/unit/test_openapi_document.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from service.app import create_app
from service.core.config import load_settings
from tests.support.openapi_spec import (
    SPEC,
    SPEC_TEXT,
    answer_problems,
    path_template,
    pointer,
    schema_errors,
    served_operations,
)

KEY = "k3y"


# --------------------------------------------------------------------------- (a) the document itself


def test_spec_documents_every_route_of_the_service(app) -> None:
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in ("/openapi.json", "/openapi.yaml"):
            continue
        template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(m, template) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == served_operations()


# --------------------------------------------------------------------------- (b) serving it


def test_yaml_and_json_documents_are_served_and_equal(client) -> None:
    as_yaml = client.get("/openapi.yaml")
    assert as_yaml.status_code == 200 and as_yaml.mimetype == "application/yaml"
    assert as_yaml.data.decode("utf-8") == SPEC_TEXT
    as_json = client.get("/openapi.json")
    assert as_json.status_code == 200 and as_json.mimetype == "application/json"
    assert json.loads(as_json.data) == yaml.safe_load(as_yaml.data) == SPEC


def test_documents_stay_open_when_auth_is_on(make_app) -> None:
    client = make_app(OS_SECURITY_KEY=KEY).test_client()
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/openapi.yaml").status_code == 200
    assert client.get("/sessions").status_code == 401


# --------------------------------------------------------------------------- (c) real responses conform

T0 = 1767225600
MODEL = {"id": "gpt-4o", "name": "OpenAIChat", "provider": "OpenAI"}


def msg(mid: str, role: str, content: Any, at_: int, **extra: Any) -> dict:
    return {"id": mid, "role": role, "content": content, "created_at": at_, "from_history": False,
            "stop_after_tool_call": False, **extra}


def seed(rows) -> None:
    """One session of each type with runs (a member run, a workflow step run), plus the awkward rows."""
    usage = {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30}
    rows.session("agent-sess-1", "agent", component_id="basic-agent", user_id="user-1", created_at=T0,
                 session_data={"session_name": "Trip planning", "session_state": {"city": "Tokyo", "days": 3},
                               "session_metrics": {"input_tokens": 40, "total_tokens": 60, "output_tokens": 20}},
                 agent_data={"name": "Basic Agent", "model": MODEL, "agent_id": "basic-agent", "sdk": "agno"},
                 metadata={"tag": "demo"},
                 summary={"summary": "The user asked for a Tokyo itinerary.", "topics": ["travel", "japan"],
                          "updated_at": "2026-01-01T02:00:00"})
    rows.run("agent-sess-1", {
        "run_id": "run-a1", "agent_id": "basic-agent", "agent_name": "Basic Agent", "user_id": "user-1",
        "status": "COMPLETED", "input": {"input_content": "Plan a trip to Tokyo", "images": [{"url": "http://x/i.png"}]},
        "content": "Day 1: Asakusa...", "content_type": "str", "created_at": T0 + 10, "metadata": {"k": 1},
        "metrics": {"duration": 1.25, **usage},
        "messages": [msg("m-sys-run-a1", "system", "You are a helpful assistant.", T0 + 10),
                     msg("m-usr-run-a1", "user", "Plan a trip to Tokyo", T0 + 10),
                     msg("m-ast-run-a1", "assistant", "Day 1: Asakusa...", T0 + 11, metrics=usage),
                     {"role": "user", "content": [{"type": "text", "text": "no id, no created_at"}]}],
        "tools": [{"tool_name": "search", "result": None}]}, run_index=0, user_id="user-1")
    rows.run("agent-sess-1", {
        "run_id": "run-a2", "agent_id": "basic-agent", "status": "ERROR", "created_at": T0 + 20,
        "input": {"input_content": {"question": "structured"}}, "content": {"answer": [1, 2]},
        "content_type": "dict", "messages": [msg("m-usr-run-a2", "user", None, T0 + 20)]}, run_index=1)

    rows.session("team-sess-1", "team", component_id="research-team", user_id="user-1", created_at=T0 + 1800,
                 session_data={"session_name": "Team research", "session_state": {"topic": "LLMs"},
                               "session_metrics": {"input_tokens": 50, "total_tokens": 75, "output_tokens": 25}},
                 team_data={"name": "Research Team", "model": MODEL, "team_id": "research-team"},
                 metadata={"project": "alpha"}, summary={"summary": "Team researched LLMs."})
    rows.run("team-sess-1", {
        "run_id": "run-t1", "team_id": "research-team", "team_name": "Research Team", "user_id": "user-1",
        "status": "COMPLETED", "input": {"input_content": "Research LLM history"}, "content": "LLMs began with...",
        "created_at": T0 + 1810, "messages": [msg("m-usr-run-t1", "user", "Research LLM history", T0 + 1810),
                                              msg("m-ast-run-t1", "assistant", "LLMs began with...", T0 + 1811)]},
        run_index=0)
    rows.run("team-sess-1", {
        "run_id": "run-t1-m1", "agent_id": "researcher", "parent_run_id": "run-t1", "status": "COMPLETED",
        "created_at": T0 + 1812, "content": "Sources: ...",
        "messages": [msg("m-member", "user", "Find sources on LLM history", T0 + 1812)]}, run_index=1)

    step_run = {"run_id": "run-w1-s1", "agent_id": "basic-agent", "workflow_id": "content-workflow",
                "parent_run_id": "run-w1", "status": "COMPLETED", "created_at": T0 + 911,
                "input": {"input_content": "step for Write about AI"}, "content": "AI is...",
                "messages": [msg("m-usr-run-w1-s1", "user", "step for Write about AI", T0 + 911)]}
    rows.session("wf-sess-1", "workflow", component_id="content-workflow", user_id="user-1", created_at=T0 + 900,
                 session_data={"session_state": {"draft": 1}},
                 workflow_data={"name": "Content Workflow", "workflow_id": "content-workflow",
                                "steps": [{"name": "write", "type": "Step", "description": None}]},
                 metadata={"k": "v"})
    rows.run("wf-sess-1", {
        "run_id": "run-w1", "workflow_id": "content-workflow", "workflow_name": "Content Workflow",
        "user_id": "user-1", "input": "Write about AI", "content": "AI is...", "status": "COMPLETED",
        "created_at": T0 + 910,
        "step_results": [{"step_name": "write", "step_type": "Step", "content": "AI is...", "success": True}],
        "step_executor_runs": [step_run]}, run_index=0)
    rows.run("wf-sess-1", step_run, run_index=1)
    rows.run("wf-sess-1", {"run_id": "run-w2", "workflow_id": "content-workflow", "status": "RUNNING",
                           "input": {"topic": "space", "words": 100}, "content": {"title": "Space"},
                           "created_at": T0 + 920}, run_index=2)

    rows.session("agent-sess-3", "agent", component_id="basic-agent", created_at=T0 + 7200)  # JSON-null columns
    rows.session("nm", "agent", component_id="basic-agent", updated_at=None,
                 session_data={"session_name": "null metrics", "session_metrics": None})
    rows.session("team-bare", "team", created_at=0)
    rows.session("empty-wf", "workflow")


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


BULK = {"session_ids": ["gone-1", "gone-2"], "session_types": ["agent", "team"]}
IMPORT = {
    "session_id": "imported-1", "user_id": "user-9", "agent_id": "basic-agent",
    "summary": {"summary": "Imported.", "topics": ["import"], "updated_at": "2026-01-01T00:00:00Z"},
    "runs": [{"run_id": "imp-r1", "agent_id": "basic-agent", "status": "COMPLETED", "created_at": T0,
              "input": {"input_content": "Hello"}, "content": "Hi",
              "messages": [msg("i1", "user", "Hello", T0), {"role": "assistant", "content": "Hi", "created_at": "x"}]},
             {"run_id": "imp-r2", "team_id": "t", "content": ["any", {"shape": True}]}],
}

# (method, url, keyword arguments for the test client, expected status); reads first, then writes, then deletes.
REQUESTS: list[tuple[str, str, dict, int]] = [
    ("GET", "/sessions", {}, 200),
    ("GET", "/sessions?type=agent&limit=2&page=1&sort_by=updated_at&sort_order=asc", {}, 200),
    ("GET", "/sessions?component_id=research-team&user_id=user-1&session_name=team", {}, 200),
    ("GET", "/sessions?sort_by=session_name&sort_order=desc&page=50", {}, 200),
    ("GET", "/sessions?limit=1&page=9223372036854775807", {}, 200),
    ("GET", "/sessions?limit=0", {}, 422),
    ("GET", "/sessions?page=0", {}, 422),
    ("GET", "/sessions?limit=9223372036854775808", {}, 422),
    ("GET", "/sessions?page=9223372036854775807", {}, 200),  # offset past bigint: the empty page past the data
    ("GET", "/sessions?page=9223372036854775808", {}, 422),
    ("GET", "/sessions?type=robot&sort_order=up&limit=2.5", {}, 422),
    ("GET", "/sessions?user_id=a%00b", {}, 422),
    ("GET", "/sessions?table=agno_sessions", {}, 400),
    ("GET", "/sessions?db_id=nope", {}, 404),
    ("GET", "/sessions?db_id={db}&table=agno_memories", {}, 404),
    ("GET", "/sessions/agent-sess-1", {}, 200),
    ("GET", "/sessions/team-sess-1", {}, 200),
    ("GET", "/sessions/wf-sess-1", {}, 200),
    ("GET", "/sessions/agent-sess-1?type=team", {}, 200),
    ("GET", "/sessions/team-sess-1?type=workflow", {}, 200),
    ("GET", "/sessions/wf-sess-1?type=agent", {}, 200),
    ("GET", "/sessions/agent-sess-3", {}, 200),
    ("GET", "/sessions/nm", {}, 200),
    ("GET", "/sessions/team-bare", {}, 200),
    ("GET", "/sessions/empty-wf?db_id={db}&table=agno_sessions", {}, 200),
    ("GET", "/sessions/missing", {}, 404),
    ("GET", "/sessions/missing?type=team", {}, 404),
    ("GET", "/sessions/agent-sess-1?user_id=someone-else", {}, 404),
    ("GET", "/sessions/agent-sess-1?type=AGENT", {}, 422),
    ("GET", "/sessions/agent-sess-1?history_limit=1", {}, 200),
    ("GET", "/sessions/agent-sess-1?history_limit=0&type=team", {}, 200),
    ("GET", "/sessions/agent-sess-1?history_limit=10001", {}, 422),
    ("GET", "/sessions/agent-sess-1?history_limit=1&history_before=x.y", {}, 400),
    ("GET", "/sessions/-/capabilities", {}, 200),
    ("POST", "/sessions/-/erase", {"json": {"user_id": "user-1", "dry_run": True}}, 503),  # no --lifecycle here
    ("POST", "/sessions/-/erase", {"json": {"user_id": "", "dry_run": True}}, 422),
    ("GET", "/sessions/-/erasures/00000000-0000-4000-8000-000000000000", {}, 503),
    ("GET", "/sessions/-/search?q=tokyo", {}, 200),
    ("GET", "/sessions/-/search?q=llm&mode=prefix&type=team&role=user&limit=1", {}, 200),
    ("GET", "/sessions/-/search?q=history&mode=phrase&created_after=0&created_before=9999999999", {}, 200),
    ("GET", "/sessions/-/search?q=", {}, 422),
    ("GET", "/sessions/-/search?q=a&limit=101", {}, 422),
    ("GET", "/sessions/-/search?q=a&after=x.y", {}, 400),
    ("GET", "/sessions/agent-sess-1/export", {}, 200),
    ("GET", "/sessions/missing/export", {}, 404),
    ("POST", "/sessions/-/import?on_conflict=skip", {"data": b"not a bundle\n",
                                                     "content_type": "application/x-ndjson"}, 400),
    ("POST", "/sessions/-/import?on_conflict=sometimes", {"data": b""}, 422),
    ("GET", "/sessions?q=tokyo", {}, 200),
    ("GET", "/sessions?q=tokyo&cursor=&limit=1", {}, 200),
    ("GET", "/sessions?q=", {}, 422),
    ("GET", "/sessions/team-sess-1?history_around=m-usr-run-t1&history_limit=3", {}, 200),
    ("GET", "/sessions/agent-sess-1?history_around=nowhere&history_limit=3", {}, 404),
    ("GET", "/sessions/agent-sess-1?history_around=x", {}, 400),
    ("GET", "/sessions?cursor=&limit=2", {}, 200),
    ("GET", "/sessions?cursor=&limit=2&include_total=false&sort_by=updated_at", {}, 200),
    ("GET", "/sessions?limit=2&page=2&include_total=false", {}, 200),
    ("GET", "/sessions?fields=session_name&include=run_count,last_run_at,last_run_status,last_message,total_tokens",
     {}, 200),
    ("GET", "/sessions?fields=", {}, 200),
    ("GET", "/sessions?include=bogus", {}, 422),
    ("GET", "/sessions?cursor=x.y", {}, 400),
    ("GET", "/sessions?cursor=&page=1", {}, 400),
    ("GET", "/sessions/agent-sess-1/runs?limit=1", {}, 200),
    ("GET", "/sessions/agent-sess-1/runs?limit=1&order=desc&exclude=messages,tools", {}, 200),
    ("GET", "/sessions/team-sess-1/run-previews?limit=1", {}, 200),
    ("GET", "/sessions/agent-sess-1/runs/run-a1?exclude=messages,events,tools,reasoning_content", {}, 200),
    ("GET", "/sessions/agent-sess-1/runs?limit=0", {}, 422),
    ("GET", "/sessions/agent-sess-1/runs?exclude=bogus", {}, 422),
    ("GET", "/sessions/agent-sess-1/runs?limit=1&after=x.y", {}, 400),
    ("GET", "/sessions/agent-sess-1/runs", {}, 200),
    ("GET", "/sessions/team-sess-1/runs", {}, 200),
    ("GET", "/sessions/wf-sess-1/runs", {}, 200),
    ("GET", "/sessions/team-sess-1/runs?type=agent", {}, 200),
    ("GET", "/sessions/wf-sess-1/runs?type=team", {}, 200),
    ("GET", "/sessions/agent-sess-1/runs?status=completed&status=ERROR", {}, 200),
    ("GET", f"/sessions/agent-sess-1/runs?created_after={T0 + 15}&created_before={T0 + 30}", {}, 200),
    ("GET", "/sessions/empty-wf/runs", {}, 200),
    ("GET", "/sessions/agent-sess-1/runs?status=bogus", {}, 400),
    ("GET", "/sessions/missing/runs", {}, 404),
    ("GET", "/sessions/agent-sess-1/runs?created_after=soon", {}, 422),
    ("GET", "/sessions/agent-sess-1/run-previews", {}, 200),
    ("GET", "/sessions/team-sess-1/run-previews", {}, 200),
    ("GET", "/sessions/wf-sess-1/run-previews", {}, 200),
    ("GET", "/sessions/wf-sess-1/run-previews?status=RUNNING", {}, 200),
    ("GET", "/sessions/wf-sess-1/run-previews?status=DONE", {}, 400),
    ("GET", "/sessions/missing/run-previews", {}, 404),
    ("GET", "/sessions/missing/run-previews?type=robot", {}, 422),
    ("GET", "/sessions/agent-sess-1/runs/run-a1", {}, 200),
    ("GET", "/sessions/agent-sess-1/runs/run-a2", {}, 200),
    ("GET", "/sessions/team-sess-1/runs/run-t1", {}, 200),
    ("GET", "/sessions/team-sess-1/runs/run-t1-m1", {}, 200),
    ("GET", "/sessions/wf-sess-1/runs/run-w1", {}, 200),
    ("GET", "/sessions/wf-sess-1/runs/run-w1-s1", {}, 200),
    ("GET", "/sessions/agent-sess-3/runs/x", {}, 404),
    ("GET", "/sessions/agent-sess-1/runs/x", {}, 404),
    ("GET", "/sessions/nope/runs/x", {}, 404),
    ("GET", "/sessions/agent-sess-1/runs/run-a1?type=robot", {}, 422),
    ("GET", "/sessions/agent-sess-1/media/images/a.png", {}, 503),
    ("GET", "/sessions/agent-sess-1/media/a%0Ab", {}, 404),  # no route matches a line break, as in AgentOS
    ("GET", "/health", {}, 200),
    ("GET", "/healthz", {}, 200),
    ("GET", "/readyz", {}, 200),
    ("GET", "/metrics", {}, 200),
    ("POST", "/sessions", {}, 201),
    ("POST", "/sessions", {"json": {}}, 201),
    ("POST", "/sessions?type=team", {"json": {"session_id": "created-team-1", "session_name": "Created team session",
                                               "session_state": {"k": "v"}, "metadata": {"m": 1},
                                               "user_id": "user-7", "team_id": "research-team"}}, 201),
    ("POST", "/sessions?type=workflow", {"json": {"session_id": "created-wf-1", "workflow_id": "content-workflow",
                                                   "session_state": {"k": "v"}}}, 201),
    ("POST", "/sessions?type=workflow", {"json": {"session_id": "created-wf-2"}}, 201),
    ("POST", "/sessions", {"json": IMPORT}, 201),
    ("POST", "/sessions", {"json": {"metadata": {"agno_dispatch_depth": 1}, "session_name": None}}, 201),
    ("POST", "/sessions", {"json": {"session_id": "agent-sess-1"}}, 409),
    ("POST", "/sessions", {"json": {"session_id": "fresh", "runs": [{"run_id": "run-a1"}]}}, 409),
    ("POST", "/sessions", {"data": "plain text", "content_type": "text/plain"}, 422),
    ("POST", "/sessions", {"data": '{"session_id": "x",', "content_type": "application/json"}, 422),
    ("POST", "/sessions", {"json": {"session_id": 1, "session_state": "x", "metadata": [1]}}, 422),
    ("POST", "/sessions", {"json": {"runs": [{"agent_id": "a"}, {"run_id": 5}]}}, 422),
    ("POST", "/sessions", {"json": {"summary": {"topics": [], "extra": 1}}}, 422),
    ("POST", "/sessions", {"json": {"session_state": {"a\u0000b": 1}}}, 422),
    ("POST", "/sessions?type=robot", {"json": []}, 422),
    ("POST", "/sessions", {"data": b'{"session_name": "\xff"}', "content_type": "application/json"}, 400),
    ("POST", "/sessions", {"json": {"session_id": "big-" + "x" * 10000}}, 201),
    ("POST", "/sessions", {"json": {"session_state": {"a": 1}, "metadata": [[[[]]]]}}, 422),
    ("POST", "/sessions", {"json": {"metadata": {"deep": _nested(260)}}}, 422),
    ("POST", "/sessions", {"json": {"runs": [{"run_id": "r-big", "run_index": 2**63}]}}, 422),
    ("GET", "/sessions/a%00b", {}, 422),
    ("GET", "/sessions/a%00b/runs/x", {}, 422),
    ("GET", "/sessions/imported-1", {}, 200),
    ("GET", "/sessions/imported-1/runs", {}, 200),
    ("GET", "/sessions/imported-1/run-previews", {}, 200),
    ("GET", "/sessions/imported-1/runs/imp-r2", {}, 200),
    ("PATCH", "/sessions/agent-sess-1", {"json": {"session_name": "Renamed", "summary": {
        "summary": "s", "updated_at": "2026-01-01T00:00:00"}}}, 200),
    ("PATCH", "/sessions/team-sess-1", {"json": {"session_state": None, "metadata": {"x": 1}}}, 200),
    ("PATCH", "/sessions/wf-sess-1", {"json": {}}, 200),
    ("PATCH", "/sessions/agent-sess-3", {"json": {"summary": None}}, 200),
    ("PATCH", "/sessions/nm", {"json": {"session_state": {"n": 1}}}, 200),
    ("PATCH", "/sessions/team-bare?type=agent", {"json": {"metadata": {}}}, 200),
    ("PATCH", "/sessions/missing", {"json": {}}, 404),
    ("PATCH", "/sessions/agent-sess-1", {"json": {"summary": {"bad": 1}}}, 422),
    ("PATCH", "/sessions/agent-sess-1", {"json": {"session_state": "x"}}, 422),
    ("PATCH", "/sessions/agent-sess-1", {}, 422),
    ("PATCH", "/sessions/agent-sess-1?table=agno_sessions", {"json": {}}, 400),
    ("PATCH", "/sessions/agent-sess-1/state", {"json": {"city": "Osaka", "days": None, "trip": {"a": [1]}}}, 200),
    ("PATCH", "/sessions/wf-sess-1/state", {"data": '{"draft": 2}', "content_type": "application/merge-patch+json"},
     200),
    ("PATCH", "/sessions/agent-sess-3/state", {"json": {}}, 200),
    ("PATCH", "/sessions/team-bare/state?user_id=", {"json": {"k": 1}}, 404),
    ("PATCH", "/sessions/missing/state", {"json": {"a": 1}}, 404),
    ("PATCH", "/sessions/agent-sess-1/state", {"json": [1]}, 422),
    ("PATCH", "/sessions/agent-sess-1/state", {"json": {"a\u0000b": 1}}, 422),
    ("PATCH", "/sessions/agent-sess-1/state", {}, 422),
    ("PATCH", "/sessions/agent-sess-1/state?table=agno_sessions", {"json": {}}, 400),
    ("GET", "/sessions/agent-sess-1/state", {}, 405),
    ("POST", "/sessions/agent-sess-1/rename", {"json": {"session_name": "Now explicit"}}, 200),
    ("POST", "/sessions/team-sess-1/rename?type=team", {"json": {"session_name": ""}}, 200),
    ("POST", "/sessions/wf-sess-1/rename", {"json": {"session_name": "Flow"}}, 200),
    ("POST", "/sessions/agent-sess-3/rename", {"json": {"session_name": "From JSON null"}}, 200),
    ("POST", "/sessions/team-bare/rename", {"json": {"session_name": "SQL NULL stays"}}, 200),
    ("POST", "/sessions/team-sess-1/rename?type=agent", {"json": {"session_name": "x"}}, 404),
    ("POST", "/sessions/agent-sess-1/rename", {"json": {"session_name": 1}}, 422),
    ("POST", "/sessions/agent-sess-1/rename", {}, 422),
    ("PUT", "/sessions", {}, 405),
    ("POST", "/sessions/agent-sess-1/runs", {}, 405),
    ("DELETE", "/health", {}, 405),
    ("HEAD", "/sessions", {}, 405),
    ("DELETE", "/sessions", {"json": BULK}, 204),
    ("DELETE", "/sessions", {"json": {"session_ids": ["a"], "session_types": ["agent", "team"]}}, 400),
    ("DELETE", "/sessions", {"json": {"session_ids": [], "session_types": ["robot"]}}, 422),
    ("DELETE", "/sessions", {}, 422),
    ("DELETE", "/sessions?delete_media=yes", {"json": BULK}, 503),
    ("DELETE", "/sessions?delete_media=maybe", {"json": BULK}, 422),
    ("DELETE", "/sessions/created-team-1", {}, 204),
    ("DELETE", "/sessions/missing?user_id=u", {}, 204),
    ("DELETE", "/sessions/agent-sess-1?delete_media=true", {}, 503),
    ("DELETE", "/sessions/agent-sess-1?delete_media=maybe", {}, 422),
    ("DELETE", "/sessions/agent-sess-1?db_id=nope", {}, 404),
    # extensions `archive` and `legal-holds` without `migrate --lifecycle` (tests/integration/test_lifecycle_api.py
    # checks their other answers against the document)
    ("POST", "/sessions/agent-sess-2/archive", {}, 503),
    ("POST", "/sessions/-/archive", {"json": {"session_ids": ["agent-sess-2"]}}, 503),
    ("POST", "/sessions/-/archive", {"json": {"session_ids": []}}, 422),
    ("POST", "/sessions/agent-sess-2/restore", {}, 503),
    ("GET", "/sessions/-/archived", {}, 503),
    ("DELETE", "/sessions/-/archived/agent-sess-2", {}, 503),
    ("PUT", "/sessions/agent-sess-2/hold", {"json": {"reason": "r"}}, 503),
    ("PUT", "/sessions/agent-sess-2/hold", {"json": {"until": "soon"}}, 422),
    ("DELETE", "/sessions/agent-sess-2/hold", {}, 503),
    # extension `change-feed` without `migrate --changes` (tests/integration/test_changes_api.py checks its answers
    # with the log against the document)
    ("GET", "/sessions/-/changes", {}, 503),
    ("GET", "/sessions/-/changes?limit=0", {}, 422),
    ("GET", "/sessions/-/changes?after=x.y", {}, 400),
]


def test_every_response_conforms_to_the_document(app, client, rows) -> None:
    seed(rows)
    db_id = app.config["SETTINGS"].default_db_id
    assert answer_problems(client, REQUESTS, db_id) == []
    exercised = {(m, path_template(u.split("?")[0])) for m, u, _, _ in REQUESTS if m != "HEAD"}
    assert served_operations() <= exercised


def test_accepted_request_bodies_match_the_documented_request_schemas() -> None:
    checked = 0
    for method, url, kwargs, expected in REQUESTS:
        if "json" not in kwargs or not 200 <= expected < 300:
            continue
        template = path_template(url.split("?")[0])
        body_ptr = pointer("paths", template, method.lower(), "requestBody", "content", "application/json", "schema")
        assert schema_errors(body_ptr, kwargs["json"]) == [], (method, url)
        checked += 1
    assert checked >= 10
    create = pointer("paths", "/sessions", "post", "requestBody", "content", "application/json", "schema")
    assert schema_errors(create, {"runs": [{"agent_id": "a"}]})  # run_id required
    assert schema_errors(create, {"metadata": {"a": {"b\u0000": 1}}})  # NUL in a nested key
    assert schema_errors(create, {"summary": {"summary": "s", "extra": 1}})


def test_auth_answers_conform(make_app, rows) -> None:
    seed(rows)
    client = make_app(OS_SECURITY_KEY=KEY).test_client()
    requests = [
        ("GET", "/sessions", {}, 401),
        ("GET", "/sessions?limit=0", {"headers": {"Authorization": "Bearer wrong"}}, 401),
        ("POST", "/sessions/agent-sess-1/rename", {"json": {"session_name": "x"}}, 401),
        ("GET", "/sessions/agent-sess-1/media/k", {}, 401),
        ("GET", "/sessions/agent-sess-1", {"headers": {"Authorization": f"bearer {KEY}"}}, 200),
        ("GET", "/sessions/agent-sess-1/runs/run-a1", {"headers": {"Authorization": KEY}}, 200),
        ("GET", "/health", {}, 200),
        ("GET", "/readyz", {}, 200),
        ("GET", "/readyz", {"headers": {"Authorization": f"Bearer {KEY}"}}, 200),
    ]
    assert answer_problems(client, requests, "") == []
    guarded = make_app(AGNO_METRICS_TOKEN="scrape").test_client()
    assert answer_problems(guarded, [("GET", "/metrics", {}, 401),
                          ("GET", "/metrics", {"headers": {"Authorization": "Bearer scrape"}}, 200)], "") == []


def test_jwt_answers_conform(make_app, rows) -> None:
    from tests.support.jwt_tokens import hs, hs_secret

    seed(rows)
    secret = hs_secret()
    client = make_app(JWT_VERIFICATION_KEY=secret, AGNO_JWT_ALGORITHM="HS256", AGNO_AUTHORIZATION="true"
                      ).test_client()
    user, reader = hs(secret, sub="user-1"), hs(secret, sub="user-1", scopes=["sessions:read"])
    nul, admin = hs(secret, sub="a\x00b"), hs(secret, scopes=["agent_os:admin"])
    requests = [
        ("GET", "/sessions", {}, 401),
        ("GET", "/sessions?limit=0", {"headers": {"Authorization": "Bearer x.y.z"}}, 401),
        ("POST", "/sessions/agent-sess-1/rename", {"json": {"session_name": "x"},
                                                    "headers": {"Authorization": f"Bearer {reader}"}}, 403),
        ("GET", "/sessions", {"headers": {"Authorization": f"Bearer {hs(secret, sub='')}"}}, 403),
        ("GET", "/sessions/agent-sess-1", {"headers": {"Authorization": f"Bearer {user}"}}, 200),
        ("GET", "/sessions/agent-sess-2", {"headers": {"Authorization": f"Bearer {user}"}}, 404),
        ("GET", "/sessions", {"headers": {"Authorization": f"Bearer {nul}"}}, 401),
        ("GET", "/health", {}, 200),
        ("GET", "/readyz", {"headers": {"Authorization": f"Bearer {user}"}}, 200),
        ("GET", "/readyz", {"headers": {"Authorization": f"Bearer {admin}"}}, 200),
    ]
    assert answer_problems(client, requests, "") == []


def test_database_failures_conform(pg_dsn: str, make_app) -> None:
    make_app()  # fresh schemas
    dead = "postgresql://nobody@127.0.0.1:1/none"
    settings = load_settings({"AGNO_SESSION_DSN_MAP": json.dumps({"main": pg_dsn, "dead": dead}),
                              "AGNO_DB_SCHEMA": "ghost", "AGNO_REQUEST_TIMEOUT": "5"})
    app = create_app(settings)
    app.testing = True
    try:
        requests = [
            ("GET", "/sessions", {}, 503),  # no tables in schema `ghost`
            ("GET", "/sessions/x?db_id=dead", {}, 503),
            ("POST", "/sessions?db_id=dead", {"json": {}}, 503),
            ("GET", "/readyz", {}, 503),
        ]
        assert answer_problems(app.test_client(), requests, "") == []
    finally:
        app.config["REGISTRY"].close()


def test_oversized_bodies_conform(make_app) -> None:
    client = make_app(AGNO_MAX_BODY_BYTES="64").test_client()
    big = {"session_name": "x" * 100}
    requests = [
        ("POST", "/sessions", {"json": big}, 413),
        ("PATCH", "/sessions/s", {"json": big}, 413),
        ("GET", "/health", {"data": "y" * 100}, 413),
        ("POST", "/sessions", {"json": {"session_name": "small"}}, 201),
    ]
    assert answer_problems(client, requests, "") == []


