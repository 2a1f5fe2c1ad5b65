"""POST /sessions/-/erase and GET /sessions/-/erasures/{receipt_id} (extension `erasure`): an operator's erasure of
everything about one user, counted by a dry run, or queued as a job the workers' erasure threads run
(storage/erasure_worker.py) and followed to its receipt."""

from __future__ import annotations

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.api.auth import current_caller, require_admin
from service.api.idempotency import idempotent
from service.api.inputs import parsed_query, parsed_request, request_database
from service.api.responses import json_response
from service.rules import erasure as rules
from service.rules.errors import ApiError
from service.rules.idempotency import caller_scope
from service.rules.validation import parsers
from service.storage import erasure, lifecycle
from service.storage.pool import Database

bp = Blueprint("erasure", __name__)
LIFECYCLE_MISSING = ("Session lifecycle is not installed in this database: run `agno-session migrate --lifecycle` "
                     "to enable archive, holds and erasure")
RECEIPT_PATH = "/sessions/-/erasures/{receipt_id}"


@bp.post("/sessions/-/erase")
@idempotent
def erase() -> Response:
    settings = current_app.config["SETTINGS"]
    require_admin(settings.jwt)
    parsed = parsed_request(parsers.erase_request)
    db = request_database(parsed)
    body = parsed.body
    user_id, override = body["user_id"], body["override_holds"]
    try:
        if body["dry_run"]:
            return json_response({"dry_run": True, "counts": erasure.count(db, user_id, override)})
        if settings.erasure_key is None:
            raise ApiError(503, rules.NO_KEY)
        scope = caller_scope(current_caller().user_id, settings.authenticated)
        job = erasure.create(db, user_id, rules.user_hash(settings.erasure_key, user_id), override,
                             rules.requester(scope, user_id))
    except erasure.SubjectHeld:
        raise ApiError(409, rules.HELD) from None
    except lifecycle.LifecycleMissing:
        raise ApiError(503, LIFECYCLE_MISSING) from None
    response = json_response(rules.receipt(job), status=202)
    response.headers["Location"] = RECEIPT_PATH.format(receipt_id=job["receipt_id"])
    return response


@bp.get("/sessions/-/erasures/<path:receipt_id>")
def erasure_receipt(receipt_id: str) -> Response:
    require_admin(current_app.config["SETTINGS"].jwt)
    db: Database = request_database(parsed_query(parsers.db_query))
    if not rules.RECEIPT_ID.match(receipt_id):  # ids are uuids: anything else names no receipt
        raise ApiError(404, f"Erasure with id '{receipt_id}' not found")
    try:
        row = erasure.receipt(db, receipt_id)
    except lifecycle.LifecycleMissing:
        raise ApiError(503, LIFECYCLE_MISSING) from None
    if row is None:
        raise ApiError(404, f"Erasure with id '{receipt_id}' not found")
    return json_response(rules.receipt(row))
