"""The AgentOS /sessions routes: parse → resolve the database → store → render."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service import render, schemas, store
from service.db import Database
from service.middleware import read_body
from service.resolve import resolve_db
from service.responses import ApiError, json_response, no_content
from service.writes import new_session, patched_session, preloaded_runs

bp = Blueprint("sessions", __name__)
MEDIA_UNCONFIGURED = "Media storage is not configured on AgentOS"


def database(db_id: str | None, table: str | None) -> Database:
    """Resolve the request's database (AgentOS's 400/404 come first), then raise any 422 held back till now."""
    db = resolve_db(current_app.config["SETTINGS"], current_app.config["REGISTRY"], db_id, table)
    g.db_id = db.config.db_id
    held = g.pop("held_invalid", None)
    path = schemas.path_errors((request.view_args or {}).get("session_id"))
    if path:  # AgentOS binds a NUL-bearing session_id and fails with a 500
        raise schemas.RequestInvalid(path + (held.errors if held is not None else []))
    if held is not None:
        raise held
    return db


def _parse(parser: Callable[..., Any], *args: Any) -> Any:
    """Run a parser; a 422 of our own making is held until the database is resolved (see `database`)."""
    try:
        return parser(*args)
    except schemas.RequestInvalid as exc:
        if exc.parsed is None:
            raise
        g.held_invalid = exc
        return exc.parsed


def query(parser: Callable[[MultiDict], dict]) -> dict:
    """Query parameters decoded the way Starlette decodes them, then parsed."""
    return _parse(parser, schemas.query_args(request.query_string))


def with_body(parser: Callable[[MultiDict, bytes, str | None], tuple[dict, dict]]) -> tuple[dict, dict]:
    """Query and body of a route with a body, errors in FastAPI's order."""
    raw = read_body(current_app.config["SETTINGS"].max_body_bytes)
    return _parse(parser, schemas.query_args(request.query_string), raw, request.headers.get("Content-Type"))


@bp.get("/sessions")
def list_sessions() -> Response:
    q = query(schemas.list_query)
    db = database(q["db_id"], q["table"])
    filters = {k: q[k] for k in ("session_type", "component_id", "user_id", "session_name")}
    total, rows = store.list_sessions(db, filters, q["sort_by"], q["sort_order"], q["limit"], q["page"])
    data = []
    for row in rows:
        runs = row.pop("runs", None)
        name_run = row.pop("name_run", None)
        if runs is None:
            runs = [name_run] if name_run is not None else []
        data.append(render.session_list_item(row, render.session_name(row, runs, for_list=True)))
    meta = {
        "page": q["page"],
        "limit": q["limit"],
        "total_pages": -(-total // q["limit"]),  # integer ceil: limits reach 2**63
        "total_count": total,
        "search_time_ms": 0.0,
    }
    return json_response({"data": data, "meta": meta})


@bp.post("/sessions")
def create_session() -> Response:
    q, body = with_body(schemas.create_request)
    db = database(q["db_id"], None)
    session_type = q["session_type"]
    now = int(time.time())
    values = new_session(session_type, body, now)
    runs = preloaded_runs(values["session_id"], values["user_id"], body.get("runs") or [], now)
    try:
        row = store.create_session(db, values, runs)
    except store.RunConflict as exc:
        raise ApiError(409, f"Run with id '{exc.run_ids[0]}' already exists") from None
    if row is None:
        sid = values["session_id"]
        raise ApiError(409, f"Session with id '{sid}' already exists. Use PATCH /sessions/{sid} to update it.")
    detail = render.session_detail(row, row["runs"], session_type)
    return json_response(render.drop_none(detail), status=201)


@bp.delete("/sessions")
def delete_sessions() -> Response:
    q, body = with_body(schemas.bulk_delete_request)
    if len(body["session_ids"]) != len(body["session_types"]):
        raise ApiError(400, "Session IDs and session types must have the same length")
    db = database(q["db_id"], q["table"])
    if q["delete_media"]:
        raise ApiError(503, MEDIA_UNCONFIGURED)
    store.delete_sessions(db, body["session_ids"], q["user_id"])
    return no_content()


@bp.get("/sessions/<session_id>")
def get_session(session_id: str) -> Response:
    q = query(schemas.detail_query)
    db = database(q["db_id"], q["table"])
    row = store.get_session(db, session_id, q["user_id"])
    if row is None:
        prefix = f"{q['session_type'].title()} " if q["session_type"] else ""
        raise ApiError(404, f"{prefix}Session with id '{session_id}' not found")
    as_type = q["session_type"] or render.detect_session_type(row)
    return json_response(render.drop_none(render.session_detail(row, row["runs"], as_type)))


@bp.patch("/sessions/<session_id>")
def update_session(session_id: str) -> Response:
    q, body = with_body(schemas.patch_request)
    db = database(q["db_id"], q["table"])
    now = int(time.time())

    def change(row: dict) -> dict:
        # A workflow answers session_state inside session_data, one level deeper: checked before anything is written.
        too_deep = schemas.state_depth(body.get("session_state"), render.detect_session_type(row))
        if too_deep:
            raise schemas.RequestInvalid(too_deep)
        return patched_session(row, q["session_type"], body, now)

    row = store.patch_session(db, session_id, q["user_id"], change)
    if row is None:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    real_type = render.detect_session_type(row)
    # AgentOS answers in the row's own shape, from the runs of the session as it read it (as `type`).
    detail = render.session_detail(row, row["runs"], real_type, read_as=q["session_type"] or real_type)
    return json_response(detail)


@bp.delete("/sessions/<session_id>")
def delete_session(session_id: str) -> Response:
    q = query(schemas.delete_query)
    db = database(q["db_id"], q["table"])
    if q["delete_media"]:
        raise ApiError(503, MEDIA_UNCONFIGURED)
    store.delete_session(db, session_id, q["user_id"])
    return no_content()


@bp.post("/sessions/<session_id>/rename")
def rename_session(session_id: str) -> Response:
    q, body = with_body(schemas.rename_request)
    db = database(q["db_id"], q["table"])
    row = store.rename_session(db, session_id, q["session_type"], q["user_id"], body["session_name"])
    if row is None:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    return json_response(render.session_detail(row, row["runs"], render.detect_session_type(row)))


def _classified_runs(session_id: str) -> list[dict]:
    """The session's runs, filtered and classified as AgentOS's runs endpoints show them."""
    q = query(schemas.runs_query)
    invalid = render.invalid_statuses(q["status"] or [])
    if invalid:
        raise ApiError(400, invalid)
    db = database(q["db_id"], q["table"])
    row = store.get_session(db, session_id, q["user_id"])
    if row is None:
        raise ApiError(404, f"Session with ID {session_id} not found")
    runs = render.filter_runs(
        row["runs"], statuses=q["status"], created_after=q["created_after"], created_before=q["created_before"]
    )
    return render.session_runs(row, runs, q["session_type"] or render.detect_session_type(row))


@bp.get("/sessions/<session_id>/runs")
def get_session_runs(session_id: str) -> Response:
    return json_response([render.drop_none(item) for item in _classified_runs(session_id)])


@bp.get("/sessions/<session_id>/run-previews")
def get_run_previews(session_id: str) -> Response:
    items = _classified_runs(session_id)
    return json_response([render.drop_none(render.run_preview(item)) for item in items])


@bp.get("/sessions/<session_id>/runs/<run_id>")
def get_session_run(session_id: str, run_id: str) -> Response:
    q = query(schemas.single_run_query)
    db = database(q["db_id"], q["table"])
    row = store.get_run(db, session_id, run_id, q["user_id"])
    if row is None:
        raise ApiError(404, f"Session with ID {session_id} not found")
    if not row.pop("has_runs"):
        raise ApiError(404, f"Session with ID {session_id} has no runs")
    run = row.pop("run")
    if run is None:
        raise ApiError(404, f"Run with ID {run_id} not found in session {session_id}")
    return json_response(render.single_run(row, run))


@bp.get("/sessions/<session_id>/media/<path:storage_key>")
def get_media(session_id: str, storage_key: str) -> Response:
    raise ApiError(503, MEDIA_UNCONFIGURED)
