"""PATCH /sessions/{id}/state (extension `state-merge`): merge a JSON Merge Patch into session_state atomically."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint
from werkzeug.wrappers import Response

from service import render, schemas
from service.api.sessions import database, with_body
from service.responses import ApiError, json_response
from service.state_merge import merge_state

bp = Blueprint("state", __name__)


class StateQuery(schemas._Model):
    user_id = schemas.Text()
    db_id = schemas.Text()
    table = schemas.Text()


class _AnyObject(schemas._Model):
    """The body is a free-form JSON object: only its being an object is FastAPI-checked."""


def _state_depth(patch: dict, kind: str) -> list[dict]:
    """session_state sits one level deeper in a workflow's answer (inside `session_data`)."""
    return schemas.depth_errors(patch, ("body",), schemas.ANSWER_DEPTH - (2 if kind == "workflow" else 1))


def _patch_body(body: Any) -> schemas._Outcome:
    out = schemas._model_body(_AnyObject(), body, required=True)
    if not out.errors:
        with schemas._deep_json():
            out.extension = _state_depth(body, "agent") or schemas._storable(body, ("body",))
            out.value = schemas.sanitize_strings(body)
    return out


def state_request(args: Any, raw: bytes | None, content_type: str | None) -> tuple[dict, dict]:
    """Query and body of PATCH /sessions/{id}/state, errors in FastAPI's order (body decoded first)."""
    body = _patch_body(schemas._decode(raw, content_type))
    query = schemas._query(StateQuery(), args)
    schemas._finish(query, body)
    return query.value, body.value


@bp.patch("/sessions/<session_id>/state")
def merge_session_state(session_id: str) -> Response:
    q, patch = with_body(state_request)
    db = database(q["db_id"], q["table"])

    def check(row: dict) -> None:
        too_deep = _state_depth(patch, render.detect_session_type(row))
        if too_deep:
            raise schemas.RequestInvalid(too_deep)

    row = merge_state(db, session_id, q["user_id"], patch, int(time.time()), check)
    if row is None:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    return json_response(render.session_detail(row, row["runs"], render.detect_session_type(row)))
