"""PATCH /sessions/{id}/state: a JSON Merge Patch (RFC 7396) of session_data.session_state."""

from __future__ import annotations

from typing import Any

from service.rules.agno import detect_session_type
from service.rules.validation.depth import state_depth
from service.rules.validation.errors import RequestInvalid
from service.rules.writes import SessionWrite


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 MergePatch: objects merge recursively, `null` deletes a key, any other value replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def merged_session_data(session_data: Any, patch: dict) -> dict:
    """session_data with the patch merged into its session_state (a non-object session_data starts as `{}`)."""
    data = dict(session_data) if isinstance(session_data, dict) else {}
    data["session_state"] = merge_patch(data.get("session_state"), patch)
    return data


def merged_state(row: dict[str, Any], patch: dict, now: int) -> SessionWrite:
    """What the state merge writes on the locked row: the merged session_data, stamped `now`.

    Raises RequestInvalid, before anything is written, for a patch nested deeper than the answer can hold."""
    own_type = detect_session_type(row)
    too_deep = state_depth(patch, own_type, ("body",))
    if too_deep:
        raise RequestInvalid(too_deep)
    return SessionWrite(own_type, own_type, {"session_data": merged_session_data(row["session_data"], patch),
                                             "now": now})
