"""How deep a stored value may nest so that AgentOS can still put it in its answer."""

from __future__ import annotations

from typing import Any

from service.rules.validation.errors import error

# pydantic-core serializes answers at most 255 levels deep (scalars count): a stored value nested deeper than
# its place in the answer allows makes AgentOS write the row and then fail with a 500.
ANSWER_DEPTH = 255


def _nesting(value: Any, limit: int) -> int:
    """Levels of nesting as pydantic-core counts them (a scalar is one level), counted only up to limit + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def depth_errors(value: Any, loc: tuple, limit: int) -> list[dict]:
    """Our 422 for a value nested deeper than AgentOS can put in its answer (it writes the row, then 500s)."""
    if value is None or _nesting(value, limit) <= limit:
        return []
    return [error("too_deep", loc, f"Input should be nested at most {limit} levels deep", value,
                  {"max_depth": limit})]


def state_depth(session_state: Any, kind: str, loc: tuple = ("body", "session_state")) -> list[dict]:
    """session_state sits one level deeper in a workflow's answer (inside `session_data`)."""
    return depth_errors(session_state, loc, ANSWER_DEPTH - (2 if kind == "workflow" else 1))


def stored_depth_errors(value: dict, kind: str | None) -> list[dict]:
    """Depth errors of the JSON fields create and PATCH store and answer with (`kind` None: not known yet)."""
    errors = state_depth(value.get("session_state"), kind or "agent")
    for name in ("metadata", "summary"):
        errors += depth_errors(value.get(name), ("body", name), ANSWER_DEPTH - 1)
    for i, run in enumerate(value.get("runs") or ()):
        errors += depth_errors(run, ("body", "runs", i), ANSWER_DEPTH - 1)
    return errors

