"""A small workflow library whose runs land in agno's tables exactly as AgentOS's workflow runs do."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from service.auth.caller import Caller
from service.lib.state import SessionState
from service.storage import workflow as store
from service.storage.errors import WorkflowSessionConflict
from service.storage.pool import Database

__all__ = [
    "CANCELLED", "COMPLETED", "ERROR", "ExecutionContext", "Node", "Parallel", "ParallelError", "Step", "StepFailed",
    "StepResult", "Steps", "Workflow", "WorkflowRun", "WorkflowSessionConflict", "content_type", "to_json",
]

COMPLETED, ERROR, CANCELLED = "COMPLETED", "ERROR", "CANCELLED"


@dataclass
class ExecutionContext:
    """What a step sees: the run's input and ids, its session state and the outputs before it."""

    input: Any
    session_id: str | None = None
    user_id: str | None = None
    session_state: SessionState = field(default_factory=SessionState)
    run_id: str | None = None
    previous_output: Any = None
    outputs: dict[str, Any] = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def get_state(self, key: str, default: Any = None) -> Any:
        """Shortcut to the session state, so steps need not reach through the context."""
        return self.session_state.get(key, default)

    def set_state(self, key: str, value: Any) -> None:
        """Shortcut to the session state, so steps need not reach through the context."""
        self.session_state.set(key, value)

    def delete_state(self, key: str) -> bool:
        """Shortcut to the session state, so steps need not reach through the context."""
        return self.session_state.delete(key)

    def cancel(self) -> None:
        """Ask the run to stop before its next step."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested, for long steps that want to stop early."""
        return self.cancel_event.is_set()

    def branch(self, state: Mapping[str, Any]) -> ExecutionContext:
        """A context for a parallel branch: its own state copy and outputs, the same ids and cancel event."""
        return replace(self, session_state=SessionState(state), outputs=dict(self.outputs))


@dataclass
class StepResult:
    """One executed step, stored as an entry of run_data.step_results."""

    step_name: str
    step_type: str
    content: Any = None
    success: bool = True
    error: str | None = None
    steps: list[StepResult] | None = None

    def to_dict(self) -> dict[str, Any]:
        """agno's StepOutput dict: None-valued keys dropped, nested results for Parallel/Steps."""
        out: dict[str, Any] = {"step_name": self.step_name, "step_type": self.step_type,
                               "content": to_json(self.content), "success": self.success}
        if self.error is not None:
            out["error"] = self.error
        if self.steps is not None:
            out["steps"] = [s.to_dict() for s in self.steps]
        return out


class StepFailed(Exception):
    """A step raised: carries its result record (with nested branch results) and the original error."""

    def __init__(self, result: StepResult, errors: list[tuple[str, BaseException]]) -> None:
        super().__init__("; ".join(f"{name}: {err!r}" for name, err in errors))
        self.result = result
        self.errors = errors


class ParallelError(StepFailed):
    """One or more parallel branches failed; `errors` lists every failed branch in branch order."""


class Node:
    """Anything a workflow can execute: a Step, a sequence of Steps, or a Parallel block."""

    name: str
    description: str | None = None
    step_type = "Step"

    def then(self, other: Node) -> Steps:
        """Chain another node after this one."""
        return Steps(self, other)

    def execute(self, ctx: ExecutionContext) -> StepResult:  # pragma: no cover - abstract
        """Run against `ctx`; raise StepFailed (or any error) on failure."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """This node's entry in workflow_data.steps."""
        return {"name": self.name, "description": self.description, "type": self.step_type}


class Step(Node):
    """A named function of the context; its return value is the step's output."""

    def __init__(self, name: str, fn: Callable[[ExecutionContext], Any], description: str | None = None) -> None:
        self.name, self.fn, self.description = name, fn, description

    def execute(self, ctx: ExecutionContext) -> StepResult:
        """Call the function; errors propagate to the caller."""
        return StepResult(self.name, self.step_type, self.fn(ctx))


class Steps(Node):
    """Nodes run one after another, each seeing the previous output (a workflow flattens them)."""

    step_type = "Steps"

    def __init__(self, *nodes: Node, name: str | None = None, description: str | None = None) -> None:
        flat: list[Node] = []
        for node in nodes:
            flat.extend(node.nodes if isinstance(node, Steps) and node.anonymous else [node])
        self.nodes, self._name, self.description = tuple(flat), name, description

    @property
    def name(self) -> str:  # type: ignore[override]
        """The given name, else the member names joined."""
        return self._name or " -> ".join(n.name for n in self.nodes)

    @property
    def anonymous(self) -> bool:
        """An unnamed chain is only syntax: a workflow (or an enclosing chain) takes its nodes one by one."""
        return self._name is None

    def then(self, other: Node) -> Steps:
        """Append a node to this chain."""
        return Steps(self, other) if self._name else Steps(*self.nodes, other)

    def execute(self, ctx: ExecutionContext) -> StepResult:
        """Run each node in order; the last output is this chain's output."""
        results = []
        for node in self.nodes:
            result = node.execute(ctx)
            ctx.previous_output = result.content
            ctx.outputs[node.name] = result.content
            results.append(result)
        return StepResult(self.name, self.step_type, results[-1].content if results else None, steps=results)


class Parallel(Node):
    """Branches on their own threads, each on a clone of the state, merged in branch order when all succeed."""

    step_type = "Parallel"

    def __init__(self, *branches: Node, name: str = "parallel", description: str | None = None) -> None:
        self.branches, self.name, self.description = branches, name, description

    def execute(self, ctx: ExecutionContext) -> StepResult:
        """Run every branch to completion; merge their states, or raise ParallelError with every failure."""
        original = ctx.session_state.get_all()
        contexts = [ctx.branch(original) for _ in self.branches]
        results: list[StepResult | None] = [None] * len(self.branches)
        errors: list[BaseException | None] = [None] * len(self.branches)

        def work(i: int) -> None:
            try:
                results[i] = self.branches[i].execute(contexts[i])
            except Exception as exc:  # reported with its siblings' errors below
                errors[i] = exc

        threads = [threading.Thread(target=work, args=(i,), name=f"{self.name}[{i}]") for i in range(len(contexts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [(b.name, e) for b, e in zip(self.branches, errors, strict=True) if e is not None]
        records = [r if r is not None else StepResult(b.name, b.step_type, success=False, error=str(e))
                   for b, r, e in zip(self.branches, results, errors, strict=True)]
        if failed:
            message = "; ".join(f"{name}: {err!r}" for name, err in failed)
            raise ParallelError(StepResult(self.name, self.step_type, success=False, error=message, steps=records),
                                failed)
        ctx.session_state.apply_branches(original, [c.session_state for c in contexts])
        return StepResult(self.name, self.step_type, {r.step_name: r.content for r in records}, steps=records)


@dataclass
class WorkflowRun:
    """The outcome of Workflow.run, including the run_data dict that was (or would be) stored."""

    run_id: str
    session_id: str
    status: str
    content: Any
    step_results: list[StepResult]
    session_state: dict[str, Any]
    run_data: dict[str, Any]
    error: BaseException | None = None


def to_json(value: Any) -> Any:
    """A JSON-ready copy: tuples and sets become lists, models their dicts, anything else its str()."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_json(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    for method in ("model_dump", "to_dict"):
        if callable(getattr(value, method, None)):
            return to_json(getattr(value, method)())
    return str(value)


def content_type(content: Any) -> str:
    """agno's content_type: "str" for text (and no content), else the value's type name ("dict", "list"…)."""
    return "str" if content is None else type(content).__name__


class Workflow:
    """Named steps run in order with cancellation; with a database, every run is saved as AgentOS saves it."""

    def __init__(self, name: str, workflow_id: str | None = None, steps: Node | Iterable[Node] = (), *,
                 description: str | None = None, db: Database | None = None) -> None:
        self.name, self.description, self.db = name, description, db
        self.workflow_id = workflow_id or str(uuid.uuid4())
        self.steps: tuple[Node, ...] = Steps(*([steps] if isinstance(steps, Node) else steps)).nodes
        self._active: set[threading.Event] = set()
        self._lock = threading.Lock()

    @property
    def workflow_data(self) -> dict[str, Any]:
        """The workflow_data column agno writes for this workflow."""
        return {"workflow_id": self.workflow_id, "name": self.name, "steps": [s.describe() for s in self.steps]}

    def cancel(self) -> None:
        """Cancel every run in progress: each stops before its next step with status CANCELLED."""
        with self._lock:
            for event in self._active:
                event.set()

    def run(self, input: Any, *, session_id: str | None = None, user_id: str | None = None,
            session_state: SessionState | Mapping[str, Any] | None = None, caller: Caller | None = None
            ) -> WorkflowRun:
        """Run the steps (resuming the stored session state when there is a database) and save the run. Behind the
        API pass the request's `caller`: an isolated caller runs as its own `sub`, whatever `user_id` says, so it
        can neither resume nor overwrite another user's session (MissingIdentity without a `sub`)."""
        if caller is not None:
            user_id = caller.owner(user_id)
        claim_unowned = caller is None or not caller.isolated
        session_id = session_id or str(uuid.uuid4())
        state = SessionState()
        if self.db is not None:
            row = store.load_workflow_session(self.db, session_id, user_id, claim_unowned)
            stored = (row or {}).get("session_data") or {}
            if isinstance(stored, dict) and isinstance(stored.get("session_state"), dict):
                state.replace(stored["session_state"])
        if session_state is not None:
            state.merge(session_state)
        ctx = ExecutionContext(input, session_id, user_id, state, run_id=str(uuid.uuid4()))
        created_at = int(time.time())
        with self._lock:
            self._active.add(ctx.cancel_event)
        try:
            status, content, results, error = self._execute(ctx)
        finally:
            with self._lock:
                self._active.discard(ctx.cancel_event)
        run_data = {
            "run_id": ctx.run_id, "session_id": session_id, "workflow_id": self.workflow_id,
            "workflow_name": self.name, "user_id": user_id, "input": to_json(input), "content": to_json(content),
            "content_type": content_type(content), "status": status, "created_at": created_at,
            "step_results": [r.to_dict() for r in results],
        }
        snapshot = state.get_all()
        if self.db is not None:
            session = {"session_id": session_id, "workflow_id": self.workflow_id, "user_id": user_id,
                       "session_state": to_json(snapshot), "workflow_data": self.workflow_data}
            store.save_workflow_run(self.db, session, run_data, int(time.time()), claim_unowned)
        return WorkflowRun(ctx.run_id, session_id, status, content, results, snapshot, run_data, error)

    def _execute(self, ctx: ExecutionContext) -> tuple[str, Any, list[StepResult], BaseException | None]:
        """Run steps until done, cancelled or failed: (status, content, step results, error)."""
        results: list[StepResult] = []
        for node in self.steps:
            if ctx.cancelled:
                return CANCELLED, ctx.previous_output, results, None
            try:
                result = node.execute(ctx)
            except StepFailed as exc:
                results.append(exc.result)
                return ERROR, f"Workflow execution failed: {exc}", results, exc
            except Exception as exc:
                results.append(StepResult(node.name, node.step_type, success=False, error=str(exc)))
                return ERROR, f"Workflow execution failed: {exc}", results, exc
            results.append(result)
            ctx.previous_output = result.content
            ctx.outputs[node.name] = result.content
        return COMPLETED, ctx.previous_output, results, None
