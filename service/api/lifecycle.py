"""Archive and restore (extension `archive`) and legal holds (extension `legal-holds`): sessions moved out of
AgentOS's sight into the archive's tables and back, listed and purged there; holds that refuse archive, purge and
delete. Without `agno-session migrate --lifecycle` every route here answers 503 (error_handlers)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from service.api import list_pages
from service.api.auth import current_caller, require_admin
from service.api.idempotency import idempotent
from service.api.inputs import parsed_query, parsed_request, request_database
from service.api.preconditions import refuse_missing, write_precondition
from service.api.responses import json_response, no_content, with_etag
from service.rules import agno, render
from service.rules.errors import ApiError
from service.rules.lifecycle import no_hold, not_archived
from service.rules.validation import list_filters, parsers
from service.storage import archive
from service.storage.errors import RunConflict
from service.storage.pool import Database
from service.storage.sessions import Precondition

bp = Blueprint("lifecycle", __name__)


def _count(db: Database, action: str, sessions: int) -> None:
    """The lifecycle counter (api/metrics.py) by action and database."""
    if sessions:
        metrics = current_app.config["METRICS"]
        metrics.child(metrics.lifecycle, action, db.config.db_id).inc(sessions)


@bp.post("/sessions/<session_id>/archive")
@idempotent
def archive_session(session_id: str) -> Response:
    parsed = parsed_request(parsers.archive_request)
    db = request_database(parsed, session_id)
    caller = current_caller()
    precondition = write_precondition()
    if not archive.archive_session(db, session_id, caller.owner(parsed.query["user_id"]), caller.user_id,
                                   parsed.body["reason"], int(time.time()), precondition):
        refuse_missing(precondition)
        raise ApiError(404, f"Session with id '{session_id}' not found")
    _count(db, "archived", 1)
    return no_content()


@bp.post("/sessions/-/archive")
@idempotent
def archive_sessions() -> Response:
    parsed = parsed_request(parsers.bulk_archive_request)
    db = request_database(parsed)
    caller = current_caller()
    moved = archive.archive_sessions(db, parsed.body["session_ids"], caller.owner(parsed.query["user_id"]),
                                     caller.user_id, parsed.body["reason"], int(time.time()))
    _count(db, "archived", len(moved))
    return json_response({"archived": moved})


@bp.post("/sessions/<session_id>/restore")
@idempotent
def restore_session(session_id: str) -> Response:
    parsed = parsed_query(parsers.state_query)
    db = request_database(parsed, session_id)
    try:
        row = archive.restore_session(db, session_id, current_caller().owner(parsed.query["user_id"]))
    except RunConflict as exc:
        raise ApiError(409, f"Run with id '{exc.run_ids[0]}' already exists") from None
    if row is None:
        raise ApiError(404, not_archived(session_id))
    _count(db, "restored", 1)
    detail = render.session_detail(row, row["runs"], agno.detect_session_type(row), now=int(time.time()))
    return with_etag(json_response(render.drop_none(detail)), row["etag"])


@bp.get("/sessions/-/archived")
def list_archived() -> Response:
    parsed = parsed_query(parsers.list_query)
    db = request_database(parsed)
    q = parsed.query
    if q["q"] is not None:
        raise ApiError(400, "The archived list cannot be searched: q is not supported here")
    filters = {k: q[k] for k in ("session_type", "component_id", "session_name")}
    filters["user_id"] = current_caller().owner(q["user_id"])
    filters |= {k: q[k] for k in list_filters.FILTER_KEYS}
    return list_pages.list_page(db, q, filters, list_filters.applied_filters(q), archived=True)


@bp.delete("/sessions/-/archived/<session_id>")
def purge_archived(session_id: str) -> Response:
    parsed = parsed_query(parsers.state_query)
    db = request_database(parsed, session_id)
    if not archive.purge_archived(db, session_id, current_caller().owner(parsed.query["user_id"])):
        raise ApiError(404, not_archived(session_id))
    _count(db, "purged", 1)
    return no_content()


def _optional_precondition() -> Precondition | None:
    """If-Match compared when given, never required: a hold changes no representation of the session."""
    return write_precondition() if request.headers.get("If-Match") is not None else None


@bp.put("/sessions/<session_id>/hold")
def place_hold(session_id: str) -> Response:
    require_admin(current_app.config["SETTINGS"].jwt)  # legal holds are the admin scope's under JWT
    parsed = parsed_request(parsers.hold_request)
    db = request_database(parsed, session_id)
    caller, body = current_caller(), parsed.body
    precondition = _optional_precondition()
    hold = archive.place_hold(db, session_id, caller.owner(parsed.query["user_id"]), body["reason"], body["until"],
                              caller.user_id, int(time.time()), precondition)
    if hold is None:
        refuse_missing(precondition)
        raise ApiError(404, f"Session with id '{session_id}' not found")
    return json_response(hold)


@bp.delete("/sessions/<session_id>/hold")
def release_hold(session_id: str) -> Response:
    require_admin(current_app.config["SETTINGS"].jwt)  # legal holds are the admin scope's under JWT
    parsed = parsed_query(parsers.state_query)
    db = request_database(parsed, session_id)
    precondition = _optional_precondition()
    if not archive.release_hold(db, session_id, current_caller().owner(parsed.query["user_id"]), precondition):
        raise ApiError(404, no_hold(session_id))
    return no_content()

