"""PATCH /sessions/{id}/state (extension `state-merge`): merge a JSON Merge Patch into session_state atomically."""

from __future__ import annotations

import time

from flask import Blueprint
from werkzeug.wrappers import Response

from service.api.auth import current_caller
from service.api.inputs import parsed_request, resolve_database
from service.api.responses import json_response
from service.rules import render
from service.rules.errors import ApiError
from service.rules.state_merge import merged_session_data
from service.rules.validation import parsers
from service.rules.validation.depth import state_depth
from service.rules.validation.errors import RequestInvalid
from service.storage import sessions as store

bp = Blueprint("state", __name__)


@bp.patch("/sessions/<session_id>/state")
def merge_session_state(session_id: str) -> Response:
    parsed = parsed_request(parsers.state_merge_request)
    db = resolve_database(parsed, session_id)
    patch = parsed.body

    def merged(row: dict) -> dict:
        # Checked on the locked row, before anything is written: raising here rolls the transaction back.
        too_deep = state_depth(patch, render.detect_session_type(row), ("body",))
        if too_deep:
            raise RequestInvalid(too_deep)
        return merged_session_data(row["session_data"], patch)

    now = int(time.time())
    row = store.merge_session_state(db, session_id, current_caller().owner(parsed.query["user_id"]), merged, now)
    if row is None:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    return json_response(render.session_detail(row, row["runs"], render.detect_session_type(row), now=now))
