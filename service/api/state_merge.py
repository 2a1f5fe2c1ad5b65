"""PATCH /sessions/{id}/state (extension `state-merge`): merge a JSON Merge Patch into session_state atomically, or
apply a JSON Patch (extension `json-patch`)."""

from __future__ import annotations

import time
from functools import partial

from flask import Blueprint
from werkzeug.wrappers import Response

from service.api.auth import current_caller
from service.api.inputs import parsed_request, request_database
from service.api.preconditions import checked, refuse_missing, write_precondition
from service.api.responses import json_response, with_etag
from service.rules import render
from service.rules.errors import ApiError
from service.rules.state_json_patch import patched_state
from service.rules.state_merge import merged_state
from service.rules.validation import parsers
from service.rules.validation.json_patch import JsonPatchOps
from service.storage import sessions as store

bp = Blueprint("state", __name__)


@bp.patch("/sessions/<session_id>/state")
def merge_session_state(session_id: str) -> Response:
    parsed = parsed_request(parsers.state_merge_request)
    db = request_database(parsed, session_id)
    now = int(time.time())
    precondition = write_precondition()
    change = patched_state if isinstance(parsed.body, JsonPatchOps) else merged_state  # extension `json-patch`
    merged = checked(partial(change, patch=parsed.body, now=now), precondition)  # raising on the locked row rolls back
    written = store.merge_session_state(db, session_id, current_caller().owner(parsed.query["user_id"]), merged)
    if written is None:
        refuse_missing(precondition)
        raise ApiError(404, f"Session with id '{session_id}' not found")
    row, write = written
    return with_etag(json_response(render.session_detail(row, row["runs"], write.own_type, now=now)), row["etag"])
