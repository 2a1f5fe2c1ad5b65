"""The AgentOS /sessions routes: parse → resolve the database → store → render."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from flask import Blueprint, request
from werkzeug.wrappers import Response

from service.api import list_pages, run_pages, search
from service.api.auth import current_caller
from service.api.history import windowed_detail
from service.api.idempotency import idempotent
from service.api.inputs import parsed_query, parsed_request, request_database
from service.api.preconditions import checked, refuse_missing, write_precondition
from service.api.responses import json_response, no_content, not_modified, with_applied, with_etag
from service.rules import agno, etags, render
from service.rules.errors import ApiError
from service.rules.extensions import CREATE_IMPORT, HISTORY_WINDOW, SEARCH_MODE_HEADER
from service.rules.validation import list_filters, parsers
from service.rules.writes import new_session, patched_session, preloaded_runs
from service.storage import archive
from service.storage import sessions as store
from service.storage.errors import RunConflict

bp = Blueprint("sessions", __name__)
MEDIA_UNCONFIGURED = "Media storage is not configured on AgentOS"


@bp.get("/sessions")
def list_sessions() -> Response:
    parsed = parsed_query(parsers.list_query)
    db = request_database(parsed)
    q = parsed.query
    filters = {k: q[k] for k in ("session_type", "component_id", "session_name")}
    filters["user_id"] = current_caller().owner(q["user_id"])  # isolation: rows and count are the caller's
    filters |= {k: q[k] for k in list_filters.FILTER_KEYS}  # extension `list-filters`
    searched, search_mode = search.list_search(db, q["q"])  # extension `session-search`
    response = list_pages.list_page(db, q, filters | searched, list_filters.applied_filters(q) + ["q"] * bool(searched))
    if search_mode is not None:
        response.headers[SEARCH_MODE_HEADER] = search_mode
    return response


@bp.post("/sessions")
@idempotent
def create_session() -> Response:
    parsed = parsed_request(parsers.create_request)
    db = request_database(parsed)
    q, body = parsed.query, parsed.body
    caller = current_caller()
    body = {**body, "user_id": caller.stamp(body.get("user_id"))}  # the token's sub owns what it creates
    session_type = q["session_type"]
    now = int(time.time())
    values = new_session(session_type, body, now)
    runs = preloaded_runs(values["session_id"], values["user_id"], body.get("runs") or [], now)
    try:
        row = store.create_session(db, values, runs)
    except RunConflict as exc:
        raise ApiError(409, f"Run with id '{exc.run_ids[0]}' already exists") from None
    if row is None:
        sid = values["session_id"]
        if caller.isolated and store.get_session(db, sid, caller.user_id) is None:
            # AgentOS's wording for an id a scoped caller does not own: it says nothing about whose it is.
            raise ApiError(409, "Could not create a session with the supplied session_id. Omit session_id to have "
                                "one generated, or choose a different one.")
        raise ApiError(409, f"Session with id '{sid}' already exists. Use PATCH /sessions/{sid} to update it.")
    detail = render.session_detail(row, row["runs"], session_type, now=now)
    imported = [name for name in CREATE_IMPORT.parameters if parsed.body.get(name) is not None]
    return with_etag(with_applied(json_response(render.drop_none(detail), status=201), imported), row["etag"])


@bp.delete("/sessions")
@idempotent
def delete_sessions() -> Response:
    parsed = parsed_request(parsers.bulk_delete_request)
    q, body = parsed.query, parsed.body
    if len(body["session_ids"]) != len(body["session_types"]):
        raise ApiError(400, "Session IDs and session types must have the same length")
    db = request_database(parsed)
    owner = current_caller().owner(q["user_id"])
    if q["delete_media"]:
        raise ApiError(503, MEDIA_UNCONFIGURED)
    store.delete_sessions(db, body["session_ids"], owner, archive.hold_guard(db))
    return no_content()


@bp.get("/sessions/<session_id>")
def get_session(session_id: str) -> Response:
    parsed = parsed_query(parsers.session_query)
    db = request_database(parsed, session_id)
    q = parsed.query
    owner = current_caller().owner(q["user_id"])
    if any(q[name] is not None for name in HISTORY_WINDOW.parameters):
        windowed = windowed_detail(db, session_id, q, owner)
        if windowed is not None:
            return windowed
    row = store.get_session(db, session_id, owner)
    if row is None:
        prefix = f"{q['session_type'].title()} " if q["session_type"] else ""
        raise ApiError(404, f"{prefix}Session with id '{session_id}' not found")
    if etags.if_none_match_hits(request.headers.get("If-None-Match"), row["etag"]):
        return not_modified(row["etag"])
    as_type = q["session_type"] or agno.detect_session_type(row)
    detail = render.session_detail(row, row["runs"], as_type, now=int(time.time()))
    return with_etag(json_response(render.drop_none(detail)), row["etag"])


@bp.patch("/sessions/<session_id>")
def update_session(session_id: str) -> Response:
    parsed = parsed_request(parsers.patch_request)
    db = request_database(parsed, session_id)
    q, body = parsed.query, parsed.body
    now = int(time.time())
    precondition = write_precondition()
    change = checked(partial(patched_session, as_type=q["session_type"], body=body, now=now), precondition)
    written = store.patch_session(db, session_id, current_caller().owner(q["user_id"]), change)
    if written is None:
        refuse_missing(precondition)
        raise ApiError(404, f"Session with id '{session_id}' not found")
    row, write = written
    # AgentOS answers in the row's own shape, from the runs of the session as it read it (as `type`).
    detail = render.session_detail(row, row["runs"], write.own_type, now=now, read_as=write.kind)
    return with_etag(json_response(detail), row["etag"])


@bp.delete("/sessions/<session_id>")
def delete_session(session_id: str) -> Response:
    parsed = parsed_query(parsers.delete_query)
    db = request_database(parsed, session_id)
    q = parsed.query
    owner = current_caller().owner(q["user_id"])
    if q["delete_media"]:
        raise ApiError(503, MEDIA_UNCONFIGURED)
    store.delete_session(db, session_id, owner, write_precondition(), archive.hold_guard(db))
    return no_content()


@bp.post("/sessions/<session_id>/rename")
def rename_session(session_id: str) -> Response:
    parsed = parsed_request(parsers.rename_request)
    db = request_database(parsed, session_id)
    q = parsed.query
    owner = current_caller().owner(q["user_id"])
    row = store.rename_session(db, session_id, q["session_type"], owner, parsed.body["session_name"],
                               write_precondition())
    if row is None:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    detail = render.session_detail(row, row["runs"], agno.detect_session_type(row), now=int(time.time()))
    return with_etag(json_response(detail), row["etag"])


def _runs_listing(session_id: str, parser: Callable, shape: Callable[[dict, tuple[str, ...]], dict]) -> Response:
    """The session's runs, filtered and classified as AgentOS's runs endpoints show them, each shaped by `shape`
    (given the keys to exclude); a keyset page of them when paging parameters are given (extension `run-cursors`)."""
    parsed = parsed_query(parser)
    q = parsed.query
    invalid = render.invalid_statuses(q["status"] or [])
    if invalid:
        raise ApiError(400, invalid)
    db = request_database(parsed, session_id)
    owner = current_caller().owner(q["user_id"])
    applied = ["exclude"] if q["exclude"] else []
    if run_pages.paging_requested(q):
        page = run_pages.paged_items(db, session_id, q, owner)
        if page is not None:
            items, following, paging = page
            shaped = [shape(item, q["exclude"]) for item in items]
            return run_pages.paged_response(shaped, following, paging + applied, q["limit"])
    row = store.get_session(db, session_id, owner)
    if row is None:
        raise ApiError(404, f"Session with ID {session_id} not found")
    runs = render.filter_runs(
        row["runs"], statuses=q["status"], created_after=q["created_after"], created_before=q["created_before"]
    )
    items = render.session_runs(row, runs, q["session_type"] or agno.detect_session_type(row))
    return with_applied(json_response([shape(item, q["exclude"]) for item in items]), applied)


@bp.get("/sessions/<session_id>/runs")
def get_session_runs(session_id: str) -> Response:
    return _runs_listing(session_id, parsers.runs_query,
                         lambda item, exclude: run_pages.without_heavy_keys(render.drop_none(item), exclude))


@bp.get("/sessions/<session_id>/run-previews")
def get_run_previews(session_id: str) -> Response:
    return _runs_listing(session_id, parsers.run_previews_query,
                         lambda item, _: render.drop_none(render.run_preview(item)))


@bp.get("/sessions/<session_id>/runs/<run_id>")
def get_session_run(session_id: str, run_id: str) -> Response:
    parsed = parsed_query(parsers.run_query)
    db = request_database(parsed, session_id)
    row = store.get_run(db, session_id, run_id, current_caller().owner(parsed.query["user_id"]))
    if row is None:
        raise ApiError(404, f"Session with ID {session_id} not found")
    if not row.pop("has_runs"):
        raise ApiError(404, f"Session with ID {session_id} has no runs")
    run = row.pop("run")
    if run is None:
        raise ApiError(404, f"Run with ID {run_id} not found in session {session_id}")
    exclude = parsed.query["exclude"]
    shown = run_pages.without_heavy_keys(render.single_run(row, run), exclude)
    return with_applied(json_response(shown), ["exclude"] if exclude else [])


@bp.get("/sessions/<session_id>/media/<path:storage_key>")
def get_media(session_id: str, storage_key: str) -> Response:
    raise ApiError(503, MEDIA_UNCONFIGURED)
