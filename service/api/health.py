"""Liveness and readiness: AgentOS's /health, plus /healthz and /readyz for orchestrators."""

from __future__ import annotations

import logging

import psycopg2
from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.db import PoolTimeout
from service.logs import LOGGER
from service.responses import json_response

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
        except (psycopg2.Error, PoolTimeout) as exc:
            log.warning("readiness check failed", extra={"fields": {"db_id": db.config.db_id, "error": str(exc)}})
            databases[db.config.db_id] = "unavailable"
            failed = failed or db.config.db_id
    if failed:
        body = {"status": "unavailable", "detail": f"Database '{failed}' is not answering", "databases": databases}
        return json_response(body, status=503)
    return json_response({"status": "ok", "databases": databases})
