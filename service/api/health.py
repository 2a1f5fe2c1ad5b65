"""Liveness and readiness: AgentOS's /health, plus /healthz and /readyz for orchestrators."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.api.responses import json_response
from service.logs import LOGGER
from service.storage.errors import StorageError

bp = Blueprint("health", __name__)
log = logging.getLogger(LOGGER)


@bp.get("/health")
def health() -> Response:
    return json_response({"status": "ok", "instantiated_at": current_app.config["INSTANTIATED_AT"]})


@bp.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready only when every configured database answers; otherwise name the first that did not."""
    databases = {}
    failed = None
    for db in current_app.config["REGISTRY"]:
        try:
            db.ping()
            databases[db.config.db_id] = "ok"
        except StorageError as exc:
            log.warning("readiness check failed", extra={"fields": {"db_id": db.config.db_id, "error": str(exc)}})
            databases[db.config.db_id] = "unavailable"
            failed = failed or db.config.db_id
    if failed:
        body = {"status": "unavailable", "detail": f"Database '{failed}' is not answering", "databases": databases}
        return json_response(body, status=503)
    return json_response({"status": "ok", "databases": databases})
