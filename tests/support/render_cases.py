"""Stored rows and run_data dicts (shaped like the contract's recordings) shared by the render tests."""

from __future__ import annotations

AGENT_MODEL = {"id": "gpt-4o", "name": "OpenAIChat", "provider": "OpenAI"}


def message(mid: str, role: str, content, at: int, **extra) -> dict:
    """A stored message dict in JSONB key order, as agno's upsert_run leaves it."""
    return {
        "id": mid,
        "role": role,
        "content": content,
        "created_at": at,
        "from_history": False,
        "stop_after_tool_call": False,
        **extra,
    }


ASSISTANT_METRICS = {"input_tokens": 20, "total_tokens": 30, "output_tokens": 10}

AGENT_ROW = {
    "session_id": "agent-sess-1",
    "session_type": "agent",
    "agent_id": "basic-agent",
    "team_id": None,
    "workflow_id": None,
    "user_id": "user-1",
    "session_data": {
        "session_name": "Trip planning",
        "session_state": {"city": "Tokyo", "days": 3},
        "session_metrics": {"input_tokens": 40, "total_tokens": 60, "output_tokens": 20},
    },
    "agent_data": {"name": "Basic Agent", "model": AGENT_MODEL, "agent_id": "basic-agent"},
    "team_data": None,
    "workflow_data": None,
    "metadata": {"tag": "demo"},
    "summary": {
        "topics": ["travel", "japan"],
        "summary": "The user asked for a Tokyo itinerary.",
        "updated_at": "2026-01-01T02:00:00",
    },
    "created_at": 1767225600,
    "updated_at": 1767225600,
}

AGENT_RUNS = [
    {
        "input": {"input_content": "Plan a trip to Tokyo"},
        "model": "gpt-4o",
        "run_id": "run-a1",
        "status": "COMPLETED",
        "content": "Day 1: Asakusa...",
        "metrics": {
            "duration": 1.25,
            "input_tokens": 20,
            "total_tokens": 30,
            "output_tokens": 10,
            "time_to_first_token": 0.5,
        },
        "user_id": "user-1",
        "agent_id": "basic-agent",
        "messages": [
            message("m-sys-run-a1", "system", "You are a helpful assistant.", 1767225610),
            message("m-usr-run-a1", "user", "Plan a trip to Tokyo", 1767225610),
            message("m-ast-run-a1", "assistant", "Day 1: Asakusa...", 1767225611, metrics=ASSISTANT_METRICS),
        ],
        "agent_name": "Basic Agent",
        "created_at": 1767225610,
        "session_id": "agent-sess-1",
        "content_type": "str",
        "model_provider": "OpenAI",
    },
    {
        "input": {"input_content": "Add a day in Kyoto"},
        "run_id": "run-a2",
        "status": "ERROR",
        "content": "Day 4: Kyoto...",
        "user_id": "user-1",
        "agent_id": "basic-agent",
        "messages": [
            message("m-old", "user", "Plan a trip to Tokyo", 1767225610, from_history=True),
            message("m-usr-run-a2", "user", "Add a day in Kyoto", 1767225620),
            message("m-tool", "tool", "42", 1767225620, tool_call_id="call-1", tool_name="lookup"),
            message(
                "m-ast-run-a2",
                "assistant",
                "Day 4: Kyoto...",
                1767225621,
                metrics={
                    "output_tokens": 10,
                    "cost": 0.0,
                    "audio_input_tokens": 0,
                    "timer": None,
                    "bogus": 1,
                    "input_tokens": 20,
                    "total_tokens": 30,
                },
                tool_calls=[],
                provider_data={},
            ),
        ],
        "created_at": 1767225620,
        "metadata": {"trace": "t-1"},
    },
    {
        "input": {"input_content": "member work"},
        "run_id": "run-a2-m1",
        "parent_run_id": "run-a2",
        "agent_id": "helper-agent",
        "status": "COMPLETED",
        "created_at": 1767225625,
        "messages": [message("m-member", "user", "member work", 1767225625)],
    },
]

TEAM_ROW = {
    "session_id": "team-sess-1",
    "session_type": "team",
    "agent_id": None,
    "team_id": "research-team",
    "workflow_id": None,
    "user_id": "user-1",
    "session_data": {
        "session_name": "Team research",
        "session_state": {"topic": "LLMs"},
        "session_metrics": {"input_tokens": 50, "total_tokens": 75, "output_tokens": 25},
    },
    "agent_data": None,
    "team_data": {"name": "Research Team", "model": AGENT_MODEL, "team_id": "research-team"},
    "workflow_data": None,
    "metadata": {"project": "alpha"},
    "summary": {"summary": "Team researched LLMs."},
    "created_at": 1767227400,
    "updated_at": 1767227400,
}

TEAM_RUNS = [
    {
        "input": {"input_content": "Research LLM history"},
        "run_id": "run-t1",
        "status": "COMPLETED",
        "content": "LLMs began with...",
        "team_id": "research-team",
        "user_id": "user-1",
        "team_name": "Research Team",
        "metrics": {"input_tokens": 20, "total_tokens": 30, "output_tokens": 10},
        "messages": [
            message("m-sys-run-t1", "system", "You lead a team.", 1767227410),
            message("m-usr-run-t1", "user", "Research LLM history", 1767227410),
            message("m-ast-run-t1", "assistant", "LLMs began with...", 1767227411, metrics=ASSISTANT_METRICS),
        ],
        "created_at": 1767227410,
        "content_type": "str",
    },
    {
        "input": {"input_content": "Find sources"},
        "run_id": "run-t1-m1",
        "parent_run_id": "run-t1",
        "agent_id": "researcher",
        "status": "COMPLETED",
        "content": {"sources": ["a", "b"]},
        "content_type": "Sources",
        "created_at": 1767227412,
        "messages": [message("m-usr-run-t1-m1", "user", "Find sources", 1767227412)],
    },
    {"run_id": "run-orphan", "status": "COMPLETED", "created_at": 1767227413},
]

WF_ROW = {
    "session_id": "wf-sess-1",
    "session_type": "workflow",
    "agent_id": None,
    "team_id": None,
    "workflow_id": "content-workflow",
    "user_id": "user-1",
    "session_data": {"session_state": {"draft": 1}},
    "agent_data": None,
    "team_data": None,
    "workflow_data": {
        "name": "Content Workflow",
        "steps": [{"name": "write", "type": "Step", "description": None}],
        "workflow_id": "content-workflow",
    },
    "metadata": {"k": "v"},
    "summary": None,
    "created_at": 1767226500,
    "updated_at": 1767226500,
}

WF_RUNS = [
    {
        "input": {"topic": "space", "words": 100, "lang": "français"},
        "run_id": "run-w1",
        "status": "COMPLETED",
        "content": {"title": "Space"},
        "content_type": "Article",
        "workflow_id": "content-workflow",
        "user_id": "user-1",
        "step_results": [{"step_name": "write", "content": "..."}],
        "created_at": 1767226510,
    },
    {
        "input": {"input_content": "write it"},
        "run_id": "run-w1-step",
        "agent_id": "writer",
        "workflow_id": "content-workflow",
        "parent_run_id": "run-w1",
        "status": "COMPLETED",
        "content": "...",
        "created_at": 1767226511,
        "messages": [message("m-usr-step", "user", "write it", 1767226511)],
    },
    {"run_id": "run-w1-team", "team_id": "research-team", "status": "RUNNING", "created_at": 1767226512},
    {
        "run_id": "run-w2",
        "workflow_id": "content-workflow",
        "status": "RUNNING",
        "created_at": 1767226520,
        "step_executor_runs": [
            {"messages": [message("m-x1", "user", "first", 1), message("m-x2", "user", "last", 2)]}
        ],
    },
]


def row(**overrides) -> dict:
    """A minimal agent row, every column present, with the given columns replaced."""
    base = {
        "session_id": "s-1",
        "session_type": "agent",
        "agent_id": "basic-agent",
        "team_id": None,
        "workflow_id": None,
        "user_id": None,
        "session_data": None,
        "agent_data": None,
        "team_data": None,
        "workflow_data": None,
        "metadata": None,
        "summary": None,
        "created_at": 1767225600,
        "updated_at": 1767225600,
    }
    return {**base, **overrides}
