"""Workflow library: branch isolation, deterministic merges, Parallel failures, cancellation, and persisted runs
that the HTTP API shows exactly like AgentOS-written workflow sessions."""

from __future__ import annotations

import random
import threading
import time

import pytest

from service.lib.state import SessionState
from service.lib.workflow import (
    CANCELLED,
    COMPLETED,
    ERROR,
    ExecutionContext,
    Parallel,
    ParallelError,
    Step,
    Workflow,
)
from service.storage.errors import WorkflowSessionConflict


def setter(name: str, key: str, value, delay: float = 0.0) -> Step:
    def fn(ctx: ExecutionContext):
        time.sleep(delay)
        ctx.set_state(key, value)
        return value
    return Step(name, fn)


def test_branches_never_see_sibling_writes() -> None:
    seen: dict[str, dict] = {}
    started = threading.Barrier(2, timeout=10)

    def branch(name: str):
        def fn(ctx: ExecutionContext):
            ctx.set_state(name, True)
            started.wait()  # both have written before either looks
            time.sleep(0.05)
            seen[name] = ctx.session_state.get_all()
        return Step(name, fn)

    ctx = ExecutionContext("in", session_state=SessionState({"base": 1}))
    Parallel(branch("left"), branch("right")).execute(ctx)
    assert seen == {"left": {"base": 1, "left": True}, "right": {"base": 1, "right": True}}
    assert ctx.session_state.get_all() == {"base": 1, "left": True, "right": True}


def test_merge_follows_branch_order_whatever_finishes_first() -> None:
    results = set()
    for _ in range(15):
        delays = [random.uniform(0, 0.02) for _ in range(4)]
        state = SessionState({"winner": None, "cfg": {"a": 0, "b": 0, "c": 0}})
        branches = [setter(f"b{i}", "winner", i, delays[i]) for i in range(4)]
        branches.append(Step("nested", lambda ctx: ctx.session_state.update("cfg", lambda c: {**c, "a": 1})))
        branches.append(Step("nested2", lambda ctx: ctx.session_state.update("cfg", lambda c: {**c, "c": 3})))
        Parallel(*branches).execute(ExecutionContext(None, session_state=state))
        results.add(repr(state.get_all()))
    assert results == {repr({"winner": 3, "cfg": {"a": 1, "b": 0, "c": 3}})}


def test_parallel_deletions_are_applied() -> None:
    state = SessionState({"tmp": 1, "keep": 2, "nested": {"tmp": 1, "keep": 2}})

    def drop(ctx: ExecutionContext) -> None:
        ctx.delete_state("tmp")
        ctx.session_state.update("nested", lambda n: {k: v for k, v in n.items() if k != "tmp"})

    Parallel(Step("drop", drop), setter("add", "new", 3)).execute(ExecutionContext(None, session_state=state))
    assert state.get_all() == {"keep": 2, "nested": {"keep": 2}, "new": 3}


def test_parallel_failure_reports_every_error_and_merges_nothing() -> None:
    def boom(message: str):
        def fn(ctx: ExecutionContext):
            ctx.set_state("dirty", message)
            raise ValueError(message)
        return Step(message, fn)

    state = SessionState({"clean": True})
    with pytest.raises(ParallelError) as caught:
        Parallel(boom("first"), setter("ok", "ok", 1), boom("second")).execute(ExecutionContext(None,
                                                                                                session_state=state))
    assert [(name, str(err)) for name, err in caught.value.errors] == [("first", "first"), ("second", "second")]
    assert "first" in str(caught.value) and "second" in str(caught.value)
    assert state.get_all() == {"clean": True}

    workflow = Workflow("W", "w", [setter("before", "before", 1), Parallel(boom("x"), boom("y"), name="fan")])
    run = workflow.run("go")
    assert run.status == ERROR and isinstance(run.error, ParallelError) and len(run.error.errors) == 2
    assert run.session_state == {"before": 1}
    fan = run.run_data["step_results"][1]
    assert fan["success"] is False and [s["success"] for s in fan["steps"]] == [False, False]


def test_steps_chain_and_pass_outputs() -> None:
    chain = Step("a", lambda ctx: ctx.input + 1).then(Step("b", lambda ctx: ctx.previous_output * 10))
    chain = chain.then(Step("c", lambda ctx: ctx.outputs["a"] + ctx.previous_output))
    run = Workflow("W", "w", chain).run(1)
    assert run.status == COMPLETED and run.content == 22
    assert [r["step_name"] for r in run.run_data["step_results"]] == ["a", "b", "c"]


def test_cancellation_between_steps() -> None:
    ran: list[str] = []
    workflow = Workflow("W", "w", [
        Step("one", lambda ctx: ran.append("one") or "1"),
        Step("stop", lambda ctx: ran.append("stop") or ctx.cancel() or "2"),
        Step("never", lambda ctx: ran.append("never")),
    ])
    run = workflow.run("x")
    assert run.status == CANCELLED and ran == ["one", "stop"] and run.content == "2"

    gate, release = threading.Event(), threading.Event()
    slow = Workflow("S", "s", [Step("wait", lambda ctx: gate.set() or release.wait(5)), Step("never", ran.append)])
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(slow.run("y")))
    worker.start()
    assert gate.wait(5)
    slow.cancel()
    release.set()
    worker.join(5)
    assert outcome[0].status == CANCELLED and len(outcome[0].step_results) == 1


def test_a_failing_step_ends_the_run_with_error() -> None:
    run = Workflow("W", "w", [Step("bad", lambda ctx: 1 / 0), Step("never", lambda ctx: "no")]).run("x")
    assert run.status == ERROR and isinstance(run.error, ZeroDivisionError)
    assert run.run_data["step_results"] == [{"step_name": "bad", "step_type": "Step", "content": None,
                                             "success": False, "error": "division by zero"}]


def content_workflow(db) -> Workflow:
    def write(ctx: ExecutionContext) -> str:
        ctx.session_state.update("drafts", lambda n: n + 1, 0)
        return f"About {ctx.input}"

    return Workflow("Content Workflow", "content-workflow", [
        Step("write", write),
        Parallel(setter("tag", "tags", ("ai", "ml")), setter("score", "score", 0.5), name="review"),
    ], db=db)


def test_persisted_runs_read_back_through_the_api(app, client, rows) -> None:
    db = next(iter(app.config["REGISTRY"]))
    workflow = content_workflow(db)
    first = workflow.run("Write about AI", session_id="wf-lib", user_id="user-1")
    second = workflow.run("Write about ML", session_id="wf-lib", user_id="user-1")
    assert first.status == second.status == COMPLETED and second.session_state["drafts"] == 2

    listed = client.get("/sessions?type=workflow").get_json()["data"]
    assert [(s["session_id"], s["session_name"]) for s in listed] == [("wf-lib", "Write about AI")]
    assert listed[0]["session_state"] == {"tags": ["ai", "ml"], "score": 0.5, "drafts": 2}

    detail = client.get("/sessions/wf-lib").get_json()
    assert detail["session_name"] == "Write about AI" and detail["user_id"] == "user-1"
    assert detail["workflow_id"] == "content-workflow" and detail["metadata"] == {}
    assert detail["session_data"] == {"session_state": {"tags": ["ai", "ml"], "score": 0.5, "drafts": 2}}
    assert detail["workflow_data"] == {"workflow_id": "content-workflow", "name": "Content Workflow", "steps": [
        {"name": "write", "description": None, "type": "Step"},
        {"name": "review", "description": None, "type": "Parallel"}]}

    runs = client.get("/sessions/wf-lib/runs").get_json()
    assert [r["run_id"] for r in runs] == [first.run_id, second.run_id]
    run = runs[0]
    assert list(run)[:8] == ["run_id", "run_input", "events", "workflow_id", "user_id", "content", "content_type",
                             "status"]
    assert (run["run_input"], run["workflow_id"], run["user_id"], run["status"]) == (
        "Write about AI", "content-workflow", "user-1", "COMPLETED")
    assert run["content"] == {"tag": ["ai", "ml"], "score": 0.5} and run["content_type"] == "dict"
    assert [(s["step_name"], s["success"]) for s in run["step_results"]] == [("write", True), ("review", True)]
    assert run["step_results"][0]["content"] == "About Write about AI"

    row = rows.session_row("wf-lib")
    assert row["session_type"] == "workflow" and row["json_types"]["su"] == "null"
    assert row["agent_id"] is None and row["team_id"] is None and row["updated_at"] >= row["created_at"]
    assert rows.execute("SELECT run_type, run_index, status, user_id, workflow_id FROM ai.agno_runs "
                        "ORDER BY run_index") == [("workflow", 0, "COMPLETED", "user-1", "content-workflow"),
                                                  ("workflow", 1, "COMPLETED", "user-1", "content-workflow")]
    one = client.get(f"/sessions/wf-lib/runs/{second.run_id}").get_json()
    assert one["run_input"] == "Write about ML" and one["status"] == "COMPLETED"


def test_stored_name_and_metadata_survive_a_run(app, client, rows) -> None:
    rows.session("wf-named", "workflow", component_id="content-workflow", user_id="user-1",
                 session_data={"session_name": "Kept", "session_state": {"drafts": 5}}, metadata={"k": "v"})
    db = next(iter(app.config["REGISTRY"]))
    run = content_workflow(db).run({"topic": "ocean"}, session_id="wf-named", user_id="user-1")
    assert run.session_state["drafts"] == 6
    detail = client.get("/sessions/wf-named?type=workflow").get_json()
    assert detail["session_name"] == "Kept" and detail["metadata"] == {"k": "v"}
    assert detail["session_state"]["drafts"] == 6
    (listed,) = client.get("/sessions/wf-named/runs").get_json()
    assert listed["run_input"] == '{\n  "topic": "ocean"\n}'


def test_failed_and_cancelled_runs_are_stored_with_their_status(app, client) -> None:
    db = next(iter(app.config["REGISTRY"]))
    Workflow("W", "w", [Step("bad", lambda ctx: 1 / 0)], db=db).run("oops", session_id="wf-err")
    Workflow("W", "w", [Step("stop", lambda ctx: ctx.cancel()), Step("never", lambda ctx: 1)], db=db).run(
        "halt", session_id="wf-err")
    runs = client.get("/sessions/wf-err/runs").get_json()
    assert [r["status"] for r in runs] == ["ERROR", "CANCELLED"]
    assert runs[0]["content"] == "Workflow execution failed: division by zero"
    assert client.get("/sessions/wf-err/runs?status=error").get_json()[0]["run_input"] == "oops"


def test_foreign_sessions_are_refused_before_running(app, rows) -> None:
    rows.session("agent-1", "agent", component_id="a")
    rows.session("wf-other", "workflow", component_id="w", user_id="someone")
    db = next(iter(app.config["REGISTRY"]))
    ran: list = []
    workflow = Workflow("W", "w", [Step("s", ran.append)], db=db)
    for session_id in ("agent-1", "wf-other"):
        with pytest.raises(WorkflowSessionConflict):
            workflow.run("x", session_id=session_id, user_id="user-1")
    assert ran == [] and rows.run_ids("agent-1") == rows.run_ids("wf-other") == []
