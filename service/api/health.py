"""Liveness and readiness: AgentOS's /health, plus /healthz and /readyz for orchestrators."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.api.responses import json_response
from service.logs import LOGGER
from service.storage.errors import StorageError
from service.storage.pool import Database

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
    """Ready only when every configured database answers; otherwise name the first that did not. Read replicas are
    reported (`replicas`) but never make it unready, their reads falling back to the primary; they are probed all
    at once, beside the primaries, so unreachable replicas add one probe's time, not one each, to the answer."""
    registry = list(current_app.config["REGISTRY"])
    with_replica = [db for db in registry if db.replica is not None]
    with ThreadPoolExecutor(max_workers=max(1, len(with_replica))) as probes:
        pending = {db.config.db_id: probes.submit(_probe, db.replica) for db in with_replica}
        databases = {db.config.db_id: _probe(db) for db in registry}
        replicas = {db_id: future.result() for db_id, future in pending.items()}
    failed = next((db_id for db_id, state in databases.items() if state != "ok"), None)
    extra = {"replicas": replicas} if replicas else {}
    if failed:
        body = {"status": "unavailable", "detail": f"Database '{failed}' is not answering", "databases": databases}
        return json_response({**body, **extra}, status=503)
    return json_response({"status": "ok", "databases": databases, **extra})


def _probe(db: Database) -> str:
    """`ok` when `db` answers a round trip on a connection of its own, else `unavailable` (logged)."""
    try:
        db.ping()
        return "ok"
    except StorageError as exc:
        log.warning("readiness check failed", extra={"fields": {"db_id": db.config.db_id, "pool": db.pool,
                                                                "error": str(exc)}})
        return "unavailable"
