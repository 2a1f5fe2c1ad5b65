"""An RFC 6902 JSON Patch body checked operation by operation, so that each 422 names the operation and member at
fault before anything is read or written (extension `json-patch`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException

from service.rules.validation.body import ABSENT, deep_json
from service.rules.validation.depth import state_depth
from service.rules.validation.errors import NOT_OBJECT, STRING, error
from service.rules.validation.outcome import Outcome
from service.rules.validation.sanitize import sanitize_strings
from service.rules.validation.scalars import expected
from service.rules.validation.storable import storable_errors

JSON_PATCH = "application/json-patch+json"
OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
POINTER = "Input should be a JSON Pointer (RFC 6901): empty, or '/' before each token, '~' only in '~0' or '~1'"


@dataclass(frozen=True)
class JsonPatchOps:
    """A JSON Patch whose operations passed the shape checks (string values sanitized as agno stores them)."""

    ops: tuple[dict, ...]


def _pointer_errors(op: dict, member: str, loc: tuple) -> tuple[list[dict], list[dict]]:
    """The model's errors for a `path` or `from` member (missing, not a string, not a pointer), then ours
    (a NUL or a lone surrogate, which no stored key can hold)."""
    if member not in op:
        return [error("missing", (*loc, member), "Field required", None)], []
    pointer = op[member]
    if not isinstance(pointer, str):
        return [error("string_type", (*loc, member), STRING, pointer)], []
    try:
        JsonPointer(pointer)
    except JsonPointerException as exc:
        return [error("json_pointer", (*loc, member), POINTER, pointer, {"error": str(exc)})], []
    return [], storable_errors(pointer, (*loc, member), varchar=True)


def _op_errors(op: Any, loc: tuple) -> tuple[list[dict], list[dict]]:
    """What is wrong with one operation: the model's errors, then ours (unstorable or too deep values)."""
    if not isinstance(op, dict):
        return [error("model_attributes_type", loc, NOT_OBJECT, op)], []
    name = op.get("op", ABSENT)
    if name is ABSENT:
        return [error("missing", (*loc, "op"), "Field required", None)], []
    if not isinstance(name, str) or name not in OPERATIONS:
        choices = expected(OPERATIONS)
        return [error("enum", (*loc, "op"), f"Input should be {choices}", name, {"expected": choices})], []
    errors, ours = _pointer_errors(op, "path", loc)
    if name in ("move", "copy"):
        more, more_ours = _pointer_errors(op, "from", loc)
        errors, ours = errors + more, ours + more_ours
    if name in ("add", "replace", "test"):
        if "value" not in op:
            errors.append(error("missing", (*loc, "value"), "Field required", None))
        else:
            ours += state_depth(op["value"], "agent", (*loc, "value")) or storable_errors(op["value"], (*loc, "value"))
    return errors, ours


def json_patch_body(body: Any) -> Outcome:
    """The body of a JSON Patch request: an array of operation objects (`[]` changes nothing but `updated_at`)."""
    if body is ABSENT:
        return Outcome(None, [error("missing", ("body",), "Field required", None)])
    if not isinstance(body, list):
        shown = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return Outcome(None, [error("list_type", ("body",), "Input should be a valid list", shown)])
    errors, ours = [], []
    with deep_json():
        for i, op in enumerate(body):
            op_errors, op_ours = _op_errors(op, ("body", i))
            errors += op_errors
            ours += op_ours
        if errors:
            return Outcome(None, errors)
        ops = tuple({**op, "value": sanitize_strings(op["value"])} if "value" in op else op for op in body)
    return Outcome(JsonPatchOps(ops), deferred=ours)
