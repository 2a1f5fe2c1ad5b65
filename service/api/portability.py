"""Extension `portability` over HTTP: one session's bundle, and a bundle imported session by session. A non-admin
caller exports only its own sessions and imports only sessions it will own (every user id in the bundle becomes its
own)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.api.auth import current_caller
from service.api.idempotency import idempotent
from service.api.inputs import parsed_query, read_body, request_database
from service.api.responses import json_response
from service.rules import bundle
from service.rules.errors import ApiError
from service.rules.validation import parsers
from service.storage import portable

bp = Blueprint("portability", __name__)
NDJSON = "application/x-ndjson"


@bp.get("/sessions/<session_id>/export")
def export_session(session_id: str) -> Response:
    parsed = parsed_query(parsers.detail_query)
    db = request_database(parsed, session_id)
    owner = current_caller().owner(parsed.query["user_id"])
    found = portable.layout(db)
    rows = portable.export_batch(db, found, {"session_ids": [session_id], "user_id": owner}, "", 1)
    if not rows:
        raise ApiError(404, f"Session with id '{session_id}' not found")
    writer = bundle.Writer()
    c = db.config
    body = b"".join((writer.line(bundle.header(c.db_id, c.schema, found.names(), found.columns, int(time.time()),
                                               {"session_ids": [session_id]})),
                     writer.session(*rows[0]), writer.trailer()))
    response = Response(body, content_type=NDJSON)
    response.headers["Content-Disposition"] = 'attachment; filename="session-export.ndjson"'
    return response


@bp.post("/sessions/-/import")
@idempotent
def import_sessions() -> Response:
    parsed = parsed_query(parsers.import_query)
    db = request_database(parsed)
    q = parsed.query
    raw = read_body(current_app.config["SETTINGS"].max_body_bytes)
    try:
        entries = [item for item in bundle.read(raw.splitlines(keepends=True))
                   if isinstance(item, bundle.SessionEntry)]
    except bundle.BundleError as exc:  # a rule no schema states (checksums): 400, as AgentOS's cross-field rules
        raise ApiError(400, f"Bundle refused, nothing written: {exc}") from None
    caller = current_caller()
    if caller.isolated:
        if caller.user_id is None:
            raise ApiError(403, "An import needs a caller with a user id")
        entries = [bundle.SessionEntry(e.line, e.session_id, bundle.owned_by(e.rows, caller.user_id))
                   for e in entries]
    owner = caller.user_id if caller.isolated else None
    found = portable.layout(db)
    results = []
    for entry, outcome, reason in portable.import_entries(db, found, entries, q["on_conflict"], owner, q["dry_run"]):
        results.append({"session_id": entry.session_id, "line": entry.line, "status": outcome,
                        **({"reason": reason} if reason is not None else {})})
    counts = {status: sum(r["status"] == status for r in results)
              for status in (portable.CREATED, portable.REPLACED, portable.SKIPPED, portable.FAILED)}
    return json_response({"dry_run": q["dry_run"], **counts, "sessions": results})
