"""PATCH /sessions/{id}/state (extension `state-merge`): merge a JSON Merge Patch into session_state atomically."""

from __future__ import annotations

import time

from flask import Blueprint
from werkzeug.wrappers import Response

from service import render, schemas
from service.api.sessions import database, with_body
from service.responses import ApiError, json_response
from service.state_merge import merge_state

bp = Blueprint("state", __name__)


@bp.patch("/sessions/<session_id>/state")
def merge_session_state(session_id: str) -> Response:
    q, patch = with_body(schemas.state_merge_request)
    db = database(q["db_id"], q["table"])

    def check(row: dict) -> None:
        too_deep = schemas.state_depth(patch, render.detect_session_type(row), ("body",))
        if too_deep:
            raise schemas.RequestInvalid(too_deep)

    row = merge_state(db, session_id, q["user_id"], patch, int(time.time()), check)
    if row is None:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    return json_response(render.session_detail(row, row["runs"], render.detect_session_type(row)))
