"""Seed a deterministic agno 3.1.10 session dataset through agno's own PostgresDb API.

Run with the agno venv (it imports agno, not the project):
    python tests/contract/seed.py --dsn postgresql+psycopg://postgres@/postgres?host=/tmp/agno-ref/pgdata

Everything is written with PostgresDb.upsert_session / upsert_run, so the rows are byte for byte what agno
itself stores; what agno keeps beside some sessions (offloaded tool results and their payloads, external-agent
transcripts, compaction records) is written through ResultStore, append_transcript_entries and
CompactionArchive. Only the cases agno's writer cannot produce (SQL NULL columns, epoch 0, messages without
id/created_at, a JSON-null session_metrics) are patched afterwards with plain SQL, each marked `RAW SQL`.
Re-running is idempotent: the seeded ids are deleted first (agno's delete_sessions, plus a plain DELETE).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from agno.compaction import CompactionArchive, CompactionRecord
from agno.db.postgres import PostgresDb
from agno.models.message import Message
from agno.offload import ResultStore
from agno.run.agent import RunOutput
from agno.run.team import TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session import AgentSession, TeamSession, WorkflowSession
from agno.session.summary import SessionSummary
from sqlalchemy import text

T0 = 1767225600  # 2026-01-01T00:00:00Z, the contract's base time
MODEL = {"id": "gpt-4o", "name": "OpenAIChat", "provider": "OpenAI"}
AGENT_DATA = {"name": "Basic Agent", "agent_id": "basic-agent", "model": MODEL}
TEAM_DATA = {"name": "Research Team", "team_id": "research-team", "model": MODEL}
WF_DATA = {
    "workflow_id": "content-workflow",
    "name": "Content Workflow",
    "steps": [{"name": "write", "description": None, "type": "Step"}],
}
AnyRun = RunOutput | TeamRunOutput | WorkflowRunOutput
AnySession = AgentSession | TeamSession | WorkflowSession


def msg(mid: str, role: str, content: Any, at: int, **extra: Any) -> dict:
    """Build a stored message dict with a fixed id and time, so reads are deterministic."""
    return {"id": mid, "role": role, "content": content, "created_at": at, **extra}


def chat(run_id: str, at: int, prompt: Any, answer: Any, system: bool = True) -> list[dict]:
    """The usual system/user/assistant triple of a completed run (message content must be text)."""
    prompt, answer = (x if isinstance(x, str) else json.dumps(x) for x in (prompt, answer))
    out = [msg(f"m-sys-{run_id}", "system", "You are a helpful assistant.", at)] if system else []
    out.append(msg(f"m-usr-{run_id}", "user", prompt, at))
    usage = {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30}
    out.append(msg(f"m-ast-{run_id}", "assistant", answer, at + 1, metrics=usage))
    return out


def agent_run(run_id: str, sid: str, user: str | None, at: int, prompt: Any, answer: Any = "ok",
              status: str = "COMPLETED", messages: list | None = None, **extra: Any) -> RunOutput:
    """An agent RunOutput built from a stored-shape dict (agno's from_dict), no model call."""
    data = {"run_id": run_id, "agent_id": "basic-agent", "agent_name": "Basic Agent", "session_id": sid,
            "user_id": user, "input": {"input_content": prompt}, "content": answer, "model": "gpt-4o",
            "model_provider": "OpenAI", "status": status, "created_at": at,
            "messages": chat(run_id, at, prompt, answer) if messages is None else messages,
            "metrics": {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30, "duration": 1.25,
                        "time_to_first_token": 0.5}, **extra}
    return RunOutput.from_dict({k: v for k, v in data.items() if v is not None})


def team_run(run_id: str, sid: str, user: str | None, at: int, prompt: Any, answer: Any = "ok",
             status: str = "COMPLETED", messages: list | None = None, **extra: Any) -> TeamRunOutput:
    """A team-leader TeamRunOutput (no parent_run_id), the runs team names derive from."""
    data = {"run_id": run_id, "team_id": "research-team", "team_name": "Research Team", "session_id": sid,
            "user_id": user, "input": {"input_content": prompt}, "content": answer, "model": "gpt-4o",
            "status": status, "created_at": at,
            "messages": chat(run_id, at, prompt, answer, system=False) if messages is None else messages,
            "metrics": {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30}, **extra}
    return TeamRunOutput.from_dict({k: v for k, v in data.items() if v is not None})


def wf_run(run_id: str, sid: str, user: str | None, at: int, wf_input: Any, content: Any = "done",
           status: str = "COMPLETED", **extra: Any) -> WorkflowRunOutput:
    """A WorkflowRunOutput with one step result and its executor run, as a real workflow stores it."""
    step_run = {"run_id": f"{run_id}-s1", "agent_id": "basic-agent", "agent_name": "Basic Agent",
                "workflow_id": "content-workflow", "session_id": sid, "parent_run_id": run_id,
                "status": status, "created_at": at + 1, "input": {"input_content": str(wf_input)},
                "content": content, "messages": chat(f"{run_id}-s1", at + 1, f"step for {wf_input}", content)}
    data = {"run_id": run_id, "workflow_id": "content-workflow", "workflow_name": "Content Workflow",
            "session_id": sid, "user_id": user, "input": wf_input, "content": content, "status": status,
            "created_at": at,
            "step_results": [{"step_name": "write", "step_id": f"{run_id}-step", "step_type": "Step",
                              "executor_type": "agent", "executor_name": "Basic Agent", "content": content,
                              "success": status == "COMPLETED", "metrics": {"duration": 1.5}}],
            "step_executor_runs": [step_run], **extra}
    if isinstance(content, dict):
        data["content_type"] = "dict"
    return WorkflowRunOutput.from_dict(data)


def agent_sess(sid: str, user: str | None, at: int, name: str | None = None, state: Any = None,
               metrics: Any = None, summary: SessionSummary | None = None, metadata: Any = None,
               agent_data: Any = AGENT_DATA, agent_id: str = "basic-agent") -> AgentSession:
    """An AgentSession whose session_data only holds the keys actually given."""
    return AgentSession(session_id=sid, agent_id=agent_id, user_id=user, created_at=at, updated_at=at,
                        session_data=session_data(name, state, metrics), agent_data=agent_data,
                        summary=summary, metadata=metadata)


def team_sess(sid: str, user: str | None, at: int, name: str | None = None, state: Any = None,
              metrics: Any = None, summary: SessionSummary | None = None,
              metadata: Any = None) -> TeamSession:
    """A TeamSession for research-team."""
    return TeamSession(session_id=sid, team_id="research-team", user_id=user, created_at=at, updated_at=at,
                       session_data=session_data(name, state, metrics), team_data=TEAM_DATA,
                       summary=summary, metadata=metadata)


def wf_sess(sid: str, user: str | None, at: int, name: str | None = None, state: Any = None,
            metadata: Any = None, workflow_data: Any = WF_DATA) -> WorkflowSession:
    """A WorkflowSession; agno stores {} for absent session_data/workflow_data/metadata."""
    return WorkflowSession(session_id=sid, workflow_id="content-workflow", user_id=user, created_at=at,
                           updated_at=at, session_data=session_data(name, state, None) or {},
                           workflow_data=workflow_data, metadata={} if metadata is None else metadata)


def session_data(name: str | None, state: Any, metrics: Any) -> dict | None:
    """session_data with only the given keys (None when nothing given → JSON null column)."""
    data = {"session_name": name, "session_state": state, "session_metrics": metrics}
    return {k: v for k, v in data.items() if v is not None} or None


def dataset() -> list[tuple[AnySession, list[AnyRun]]]:
    """Every seeded session with its runs (run_index = position in the list)."""
    h = 3600
    tools_msgs = [
        msg("m-tl-sys", "system", "You can call tools.", T0 + 4 * h + 10),
        msg("m-tl-hist", "user", "Earlier question from history", T0 + 4 * h, from_history=True),
        msg("m-tl-usr", "user", "Weather in Paris and Rome?", T0 + 4 * h + 10),
        msg("m-tl-call", "assistant", None, T0 + 4 * h + 11, tool_calls=[
            {"id": "call-1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "call-2", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]),
        msg("m-tl-res1", "tool", "sunny", T0 + 4 * h + 12, tool_call_id="call-1", tool_name="get_weather",
            tool_args={"city": "Paris"}),
        msg("m-tl-res2", "tool", "rain", T0 + 4 * h + 12, tool_call_id="call-2", tool_name="get_weather",
            tool_args={"city": "Rome"}, tool_call_error=False),
        msg("m-tl-ans", "assistant", "Paris is sunny, Rome is rainy.", T0 + 4 * h + 13,
            metrics={"input_tokens": 50, "output_tokens": 12, "total_tokens": 62, "duration": 0.8}),
    ]
    tools = [{"tool_call_id": "call-1", "tool_name": "get_weather", "tool_args": {"city": "Paris"},
              "result": "sunny", "created_at": T0 + 4 * h + 12}]
    large_msgs = [msg(f"m-large-{i:03d}", "user" if i % 2 == 0 else "assistant",
                      f"message {i} " + "lorem ipsum " * (i % 7), T0 + 5 * h + i) for i in range(200)]
    long_prompt = "Summarise this: " + "x" * 400
    uni = "Café ☕ 日本語 🚀 \"quoted\" \\ back"
    wf2_input = {"topic": "space", "words": 100}
    return [
        # --- the contract's named sessions ---
        (agent_sess("agent-sess-1", "user-1", T0, name="Trip planning", state={"city": "Tokyo", "days": 3},
                    metrics={"input_tokens": 40, "output_tokens": 20, "total_tokens": 60},
                    summary=SessionSummary(summary="The user asked for a Tokyo itinerary.",
                                           topics=["travel", "japan"], updated_at=datetime(2026, 1, 1, 2)),
                    metadata={"tag": "demo"}),
         [agent_run("run-a1", "agent-sess-1", "user-1", T0 + 10, "Plan a trip to Tokyo", "Day 1: Asakusa..."),
          agent_run("run-a2", "agent-sess-1", "user-1", T0 + 20, "Add a day in Kyoto", "Day 4: Kyoto...")]),
        (agent_sess("agent-sess-2", "user-2", T0 + h, state={},
                    metrics={"input_tokens": 20, "output_tokens": 10, "total_tokens": 30}),
         [agent_run("run-a3", "agent-sess-2", "user-2", T0 + h + 10, "What is the capital of France?",
                    "Paris.")]),
        (agent_sess("agent-sess-3", None, T0 + 2 * h, agent_data=None), []),
        (team_sess("team-sess-1", "user-1", T0 + h // 2, name="Team research", state={"topic": "LLMs"},
                   metrics={"input_tokens": 50, "output_tokens": 25, "total_tokens": 75},
                   summary=SessionSummary(summary="Team researched LLMs."), metadata={"project": "alpha"}),
         [team_run("run-t1", "team-sess-1", "user-1", T0 + h // 2 + 10, "Research LLM history",
                   "LLMs began with..."),
          agent_run("run-t1-m1", "team-sess-1", "user-1", T0 + h // 2 + 12, "Find sources on LLM history",
                    "Sources: ...", parent_run_id="run-t1")]),
        (team_sess("team-sess-2", "user-2", T0 + 3 * h // 2),
         [team_run("run-t2", "team-sess-2", "user-2", T0 + 3 * h // 2 + 10, "Compare Rust and Go",
                   "Both are fast...")]),
        (wf_sess("wf-sess-1", "user-1", T0 + h // 4, state={"draft": 1}, metadata={"k": "v"}),
         [wf_run("run-w1", "wf-sess-1", "user-1", T0 + h // 4 + 10, "Write about AI", "AI is...")]),
        (wf_sess("wf-sess-2", "user-2", T0 + 5 * h // 2, name="Named workflow session", workflow_data={}),
         [wf_run("run-w2", "wf-sess-2", "user-2", T0 + 5 * h // 2 + 10, wf2_input, {"title": "Space"},
                 status="RUNNING")]),
        # --- agent variety ---
        (agent_sess("agent-tools", "user-3", T0 + 4 * h, metrics={"total_tokens": 62}),
         [agent_run("run-tools-1", "agent-tools", "user-3", T0 + 4 * h + 10, "Weather in Paris and Rome?",
                    "Paris is sunny, Rome is rainy.", messages=tools_msgs, tools=tools),
          agent_run("run-tools-2", "agent-tools", "user-3", T0 + 4 * h + 20, "And in Oslo?", "boom",
                    status="ERROR"),
          agent_run("run-tools-3", "agent-tools", "user-3", T0 + 4 * h + 30, "Delete my files",
                    "Waiting for confirmation", status="PAUSED"),
          agent_run("run-tools-4", "agent-tools", "user-3", T0 + 4 * h + 40, "never mind", "",
                    status="CANCELLED", messages=[])]),
        (agent_sess("agent-large", "user-3", T0 + 5 * h, name="Large payload",
                    state={"rows": list(range(50))}),
         [agent_run("run-large-1", "agent-large", "user-3", T0 + 5 * h + 1, long_prompt, "y" * 3000,
                    messages=large_msgs),
          agent_run("run-large-2", "agent-large", "user-3", T0 + 5 * h + 500,
                    {"question": "structured", "n": [1, 2, 3]}, {"answer": 42, "why": "because"},
                    content_type="dict", messages=[])]),
        (agent_sess("agent-unicode", "user-ü", T0 + 6 * h, name=uni,
                    state={"tiny": 1e-7, "huge": 1e20, "pi": 3.14159, "big": 12345678901234567890,
                           "emoji": "🎉", "nested": {"a": [1, None, True]}},
                    metadata={"emoji": "🎉", "lang": "日本語", "none": None}),
         [agent_run("run-uni-1", "agent-unicode", "user-ü", T0 + 6 * h + 10, "Ça va? 🙂", "Très bien 👍")]),
        (agent_sess("agent-derived-input", "user-3", T0 + 7 * h),
         [agent_run("run-di-1", "agent-derived-input", "user-3", T0 + 7 * h + 10, "no messages stored",
                    messages=[])]),
        (agent_sess("agent-empty-name", "user-3", T0 + 8 * h, name=""),
         [agent_run("run-en-1", "agent-empty-name", "user-3", T0 + 8 * h + 10, "This would be the name")]),
        (agent_sess("agent-sdk", "user-4", T0 + 9 * h, name="External SDK agent", metadata={"env": "prod"},
                    agent_data={**AGENT_DATA, "sdk": "claude-agent-sdk"}), []),
        (agent_sess("agent-framework", "user-4", T0 + 9 * h + 60, name="Framework agent",
                    agent_data={**AGENT_DATA, "framework": "langgraph"}), []),
        (agent_sess("agent-reserved-meta", "user-4", T0 + 10 * h, name="Reserved metadata keys",
                    metadata={"agno_component_version": 3, "agno_dispatch_chain": ["a", "b"],
                              "agno_dispatch_depth": 1, "keep": "me"}), []),
        (agent_sess("agent-pct", "user-4", T0 + 11 * h, name="Progress 100% done_today"), []),
        (agent_sess("agent-other", "user-4", T0 + 11 * h + 60, name="Other agent",
                    agent_id="other-agent", agent_data={**AGENT_DATA, "agent_id": "other-agent"}), []),
        (agent_sess("agent-mixed", "user-1", T0 + 12 * h),
         [team_run("run-mx-1", "agent-mixed", "user-1", T0 + 12 * h + 10, "Team run inside agent session"),
          agent_run("run-mx-2", "agent-mixed", "user-1", T0 + 12 * h + 20, "Agent run in agent session")]),
        # The next two are patched by RAW SQL in raw_sql_extras (JSON-null metrics; a message losing id/time).
        (agent_sess("agent-null-metrics", "user-5", T0 + 13 * h, name="Null metrics",
                    metrics={"total_tokens": 1}), []),
        (agent_sess("agent-volatile-msg", "user-5", T0 + 13 * h + 60),
         [agent_run("run-vol-1", "agent-volatile-msg", "user-5", T0 + 13 * h + 70, "Id-less reply")]),
        (agent_sess("with space", "user-5", T0 + 14 * h, name="Id with a space"), []),
        (agent_sess("ünï-çødé", "user-5", T0 + 14 * h + 60, name="Unicode id"), []),
        # --- equal created_at (sort ties), one per type ---
        (agent_sess("tie-agent", "user-6", T0 + 15 * h, name="Tie"), []),
        (team_sess("tie-team", "user-6", T0 + 15 * h, name="Tie"), []),
        (wf_sess("tie-wf", "user-6", T0 + 15 * h, name="Tie"), []),
        # --- team variety ---
        (team_sess("team-members", "user-1", T0 + 16 * h, state={"k": [1, 2]}, metadata={}),
         [team_run("run-tm-1", "team-members", "user-1", T0 + 16 * h + 10, {"task": "plan"}, "",
                   status="ERROR", messages=[]),
          agent_run("run-tm-1-m1", "team-members", "user-1", T0 + 16 * h + 11, "member question",
                    parent_run_id="run-tm-1"),
          agent_run("run-tm-2", "team-members", "user-1", T0 + 16 * h + 20, "Top-level agent run in team"),
          team_run("run-tm-3", "team-members", "user-1", T0 + 16 * h + 30, "Second team question",
                   status="PAUSED")]),
        (team_sess("team-empty", None, T0 + 16 * h + 60), []),
        # A member run first: team names come from leader runs only, in the list and in the detail.
        (team_sess("team-member-first", "user-1", T0 + 16 * h + 90),
         [agent_run("run-tmf-m", "team-member-first", "user-1", T0 + 16 * h + 91, "member speaks first",
                    parent_run_id="run-tmf-1"),
          team_run("run-tmf-1", "team-member-first", "user-1", T0 + 16 * h + 92, "Leader question")]),
        # --- workflow variety ---
        (wf_sess("wf-steps", "user-1", T0 + 17 * h, metadata={"kind": "steps"}),
         [agent_run("run-ws-0", "wf-steps", "user-1", T0 + 17 * h + 5, "standalone step run",
                    workflow_id="content-workflow", parent_run_id="run-ws-1"),
          wf_run("run-ws-1", "wf-steps", "user-1", T0 + 17 * h + 10, {"topic": "ocean", "n": 2}),
          wf_run("run-ws-2", "wf-steps", "user-1", T0 + 17 * h + 20, "paused input", None, status="PAUSED",
                 paused_step_name="write", paused_step_index=0, pause_kind="confirmation"),
          wf_run("run-ws-3", "wf-steps", "user-1", T0 + 17 * h + 30, "failing input", "Step failed",
                 status="ERROR")]),
        (wf_sess("wf-list-input", "user-2", T0 + 18 * h),
         [wf_run("run-wl-1", "wf-list-input", "user-2", T0 + 18 * h + 10, ["a", "b"])]),
        (wf_sess("wf-empty", None, T0 + 18 * h + 60, workflow_data=None), []),
    ]


# Session id -> (user_id, what agno keeps beside it). "side-orphan" has side rows and no session row (its session
# was deleted elsewhere, or never saved): the only such id, which deviations.json's bulk-delete-orphans names.
SIDE_ROWS = {
    "agent-sess-1": ("user-1", ("tool_results", "transcripts", "compactions")),
    "agent-sess-2": ("user-2", ("tool_results", "compactions")),
    "team-sess-1": ("user-1", ("transcripts", "compactions")),
    "team-sess-2": ("user-2", ("transcripts",)),
    "team-members": ("user-1", ("tool_results",)),
    "wf-steps": ("user-1", ("compactions",)),
    "agent-mixed": ("user-1", ("tool_results", "transcripts")),
    "with space": ("user-5", ("tool_results", "compactions")),
    "ünï-çødé": ("user-5", ("tool_results",)),
    "raw-sqlnull-agent": ("raw-user", ("tool_results", "transcripts", "compactions")),
    "side-orphan": ("user-1", ("tool_results", "transcripts", "compactions")),
}


def side_rows(db: PostgresDb) -> None:
    """Offloaded tool results (index row + AgentFS payload), transcripts and compaction records, via agno's API."""
    for sid, (user, kinds) in SIDE_ROWS.items():
        side_rows_of(db, sid, user, kinds)


def side_rows_of(db: PostgresDb, sid: str, user: str | None, kinds: tuple[str, ...]) -> None:
    """The side rows of one session id (also what agno_writer.py's `side_rows` writes)."""
    store = ResultStore(db=db)
    if "tool_results" in kinds:
        for n in (1, 2):
            store.offload(session_id=sid, run_id=f"run-side-{n}", tool_call_id=f"call-{n}", tool_name="search",
                          tool_args={"q": sid, "n": n}, output=f"result {n} for {sid}\n" * 400, user_id=user)
    if "transcripts" in kinds:
        for subpath in (None, "subagents/agent-1"):
            db.append_transcript_entries("claude-agent-sdk", "contract", f"ext-{sid}",
                                         [{"uuid": f"{sid}-{subpath}-1", "type": "user", "text": "hi"},
                                          {"type": "assistant", "text": "hello"}],
                                         agno_session_id=sid, subpath=subpath)
    if "compactions" in kinds:
        record = CompactionRecord(messages_compacted=2, summary=f"fold of {sid}", id=f"cmp-{sid}",
                                  run_id="run-side-1", first_kept_message_id="m-3", tokens_before=900,
                                  tokens_after=120, created_at=T0)
        archived = [Message(role="user", content="first"), Message(role="assistant", content="second")]
        if not CompactionArchive(db, sid, user).write(record, archived):
            raise SystemExit(f"compaction record for {sid} was not stored")


RAW_IDS = ["raw-sqlnull-agent", "raw-jsonnull-wf", "raw-epoch-zero-team", "raw-legacy-type"]
JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")


def insert_raw(conn: Any, table: str, **row: Any) -> None:
    """RAW SQL insert: Python None → SQL NULL, the string 'null' → JSON null (agno can't tell them apart)."""
    values = [f"CAST(:{c} AS jsonb)" if c in JSON_COLUMNS else f":{c}" for c in row]
    conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(values)})"), row)


def raw_sql_extras(db: PostgresDb) -> None:
    """RAW SQL: rows and values agno's writer never produces but real tables can hold."""
    s = f'"{db.db_schema}"."{db.session_table_name}"'
    r = f'"{db.db_schema}"."{db.runs_table_name}"'
    t1 = T0 + 20 * 3600
    with db.db_engine.begin() as conn:
        # SQL NULL JSON columns and updated_at: list omits updated_at, detail falls back to created_at.
        insert_raw(conn, s, session_id="raw-sqlnull-agent", session_type="agent", agent_id="basic-agent",
                   user_id="raw-user", created_at=t1, updated_at=None)
        # JSON null (not SQL NULL) in every JSON column of a workflow row (agno writes {} there).
        insert_raw(conn, s, session_id="raw-jsonnull-wf", session_type="workflow",
                   workflow_id="content-workflow", user_id="raw-user", session_data="null",
                   workflow_data="null", metadata="null", summary="null", created_at=t1 + 60,
                   updated_at=t1 + 60)
        # created_at 0 and updated_at 0: list shows 1970, detail omits created_at.
        insert_raw(conn, s, session_id="raw-epoch-zero-team", session_type="team", team_id="research-team",
                   user_id="raw-user", session_data='{"session_name": "Epoch zero"}', created_at=0,
                   updated_at=0)
        # Typed 'team' but only agent_id set: type-mismatch rendering, component_id matching.
        insert_raw(conn, s, session_id="raw-legacy-type", session_type="team", agent_id="basic-agent",
                   user_id="raw-user", session_data="{}", metadata="{}", created_at=t1 + 3600,
                   updated_at=t1 + 3605)
        # session_metrics present as JSON null: detail-shaped responses 500 (AttributeError), list tolerates.
        conn.execute(text(f"UPDATE {s} SET session_data = jsonb_set(session_data, '{{session_metrics}}', "
                          "'null') WHERE session_id = 'agent-null-metrics'"))
        # A stored message lacking id/created_at: chat_history invents a uuid4 and "now" on every read.
        conn.execute(text(f"UPDATE {r} SET run_data = run_data #- '{{messages,2,id}}' "
                          "#- '{messages,2,created_at}' WHERE run_id = 'run-vol-1'"))
        # updated_at later than created_at, so sort_by=updated_at differs from created_at.
        conn.execute(text(f"UPDATE {s} SET updated_at = {T0 + 30 * 3600} WHERE session_id = 'agent-tools'"))
        conn.execute(text(f"UPDATE {s} SET updated_at = {T0 + 29 * 3600} WHERE session_id = 'wf-steps'"))


def main() -> None:
    """Parse arguments, wipe the seeded ids, write the dataset, then the raw extras."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True, help="SQLAlchemy URL, e.g. postgresql+psycopg://...")
    ap.add_argument("--schema", default="ai")
    ap.add_argument("--session-table", default=None)
    ap.add_argument("--runs-table", default=None)
    ap.add_argument("--raw-sql-extras", action=argparse.BooleanOptionalAction, default=True,
                    help="also write the plain-SQL rows (default: yes)")
    ap.add_argument("--side-rows", action=argparse.BooleanOptionalAction, default=True,
                    help="also write tool results, transcripts and compactions beside sessions (default: yes)")
    args = ap.parse_args()
    db = PostgresDb(db_url=args.dsn, db_schema=args.schema, session_table=args.session_table,
                    runs_table=args.runs_table)
    data = dataset()
    db.delete_sessions([sess.session_id for sess, _ in data] + RAW_IDS + list(SIDE_ROWS))
    for sess, runs in data:
        if db.upsert_session(sess) is None:
            raise SystemExit(f"upsert_session returned nothing for {sess.session_id}")
        for index, run in enumerate(runs):
            db.upsert_run(run, sess.session_id, sess.user_id, index)
    if args.raw_sql_extras:
        raw_sql_extras(db)
    if args.side_rows:
        side_rows(db)
    total = len(data) + (len(RAW_IDS) if args.raw_sql_extras else 0)
    side = f", side rows for {len(SIDE_ROWS)} session ids" if args.side_rows else ""
    print(f"seeded {total} sessions, {sum(len(r) for _, r in data)} runs into "
          f"{db.db_schema}.{db.session_table_name} / {db.runs_table_name}{side}; db id {db.id}")


if __name__ == "__main__":
    main()
