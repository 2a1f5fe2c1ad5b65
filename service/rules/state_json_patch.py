"""PATCH /sessions/{id}/state as `application/json-patch+json` (extension `json-patch`): an RFC 6902 JSON Patch of
session_data.session_state, applied by python-json-patch on the locked row; any refusal raises, which rolls back."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
from jsonpointer import JsonPointer, JsonPointerException

from service.rules.agno import detect_session_type
from service.rules.errors import ApiError
from service.rules.validation.depth import state_depth
from service.rules.validation.errors import RequestInvalid, error
from service.rules.validation.json_patch import JsonPatchOps
from service.rules.writes import SessionWrite

# `copy` duplicates a value already in the state, so a few dozen operations of a small body could double the
# state again and again: a patch may copy at most this many values (objects, arrays and scalars) in all.
MAX_COPIED_VALUES = 100_000


def _values(value: Any, limit: int) -> int:
    """How many values `value` holds, itself included, counted only up to limit + 1."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        stack.extend(item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
    return count


def _copied(state: Any, op: dict) -> int:
    """How many values a `copy` operation duplicates (0 when its `from` is missing: the library refuses it)."""
    try:
        return _values(JsonPointer(op["from"]).resolve(state), MAX_COPIED_VALUES)
    except JsonPointerException:
        return 0


def apply_json_patch(state: dict, patch: JsonPatchOps) -> Any:
    """`state` (left unchanged) with the operations applied in order: a failed `test` is 409, an operation that
    cannot apply (a missing target, an index past the end, a move into its own child) 422."""
    result: Any = copy.deepcopy(state)
    copied = 0
    for i, op in enumerate(patch.ops):
        if op["op"] == "copy":
            copied += _copied(result, op)
            if copied > MAX_COPIED_VALUES:
                raise RequestInvalid([error("too_many_copies", ("body", i), f"A JSON Patch may copy at most "
                                            f"{MAX_COPIED_VALUES} values", op, {"max_values": MAX_COPIED_VALUES})])
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except jsonpatch.JsonPatchTestFailed as exc:
            raise ApiError(409, f"JSON Patch test failed at {op['path']}") from exc
        except (jsonpatch.JsonPatchException, JsonPointerException) as exc:
            raise RequestInvalid([error("json_patch_conflict", ("body", i), "The operation cannot be applied to "
                                        "session_state", op, {"error": str(exc)})]) from exc
    return result


def _result_errors(state: Any, patch: JsonPatchOps, own_type: str) -> list[dict]:
    """What the patched state may not be: anything but an object, or nested deeper than the answer can hold."""
    ops = list(patch.ops)
    if not isinstance(state, dict):
        return [error("model_attributes_type", ("body",), "The patched session_state should be a valid dictionary "
                      "or object", ops)]
    return [{**e, "msg": "The patched session_state " + e["msg"][len("Input "):], "input": ops}
            for e in state_depth(state, own_type, ("body",))]


def patched_state(row: dict[str, Any], patch: JsonPatchOps, now: int) -> SessionWrite:
    """What the JSON Patch writes on the locked row: session_data with the patched session_state, stamped `now`.

    The patch applies to the state the merge patch would start from: the stored one when it is an object, else
    `{}` (SQL NULL, JSON null, a missing key or another JSON value)."""
    own_type = detect_session_type(row)
    data = dict(row["session_data"]) if isinstance(row["session_data"], dict) else {}
    stored = data.get("session_state")
    state = apply_json_patch(stored if isinstance(stored, dict) else {}, patch)
    errors = _result_errors(state, patch, own_type)
    if errors:
        raise RequestInvalid(errors)
    data["session_state"] = state
    return SessionWrite(own_type, own_type, {"session_data": data, "now": now})
