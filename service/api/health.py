"""Liveness and readiness: AgentOS's /health, plus /healthz and /readyz for orchestrators."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from service.api.auth import admin_tenant
from service.api.responses import json_response
from service.auth.tokens import key_accepted
from service.core.config import Settings
from service.core.logs import LOGGER
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
    at once, beside the primaries, so unreachable replicas add one probe's time, not one each, to the answer.

    The names and states are for callers allowed to see them (`_shown`); anyone else gets the status alone."""
    registry = list(current_app.config["REGISTRY"])
    shown = _shown(current_app.config["SETTINGS"])
    with_replica = [db for db in registry if db.replica is not None]
    with ThreadPoolExecutor(max_workers=max(1, len(with_replica))) as probes:
        pending = {db.config.db_id: probes.submit(_probe, db.replica) for db in with_replica}
        databases = {db.config.db_id: _probe(db) for db in registry}
        replicas = {db_id: future.result() for db_id, future in pending.items()}
    ready = all(state == "ok" for state in databases.values())
    if shown is None:
        return json_response({"status": "ok" if ready else "unavailable"}, status=200 if ready else 503)
    databases = {db_id: state for db_id, state in databases.items() if shown(db_id)}
    replicas = {db_id: state for db_id, state in replicas.items() if shown(db_id)}
    extra = {"replicas": replicas} if replicas else {}
    if ready:
        return json_response({"status": "ok", "databases": databases, **extra})
    failed = next((f"Database '{db_id}'" for db_id, state in databases.items() if state != "ok"), "A database")
    body = {"status": "unavailable", "detail": f"{failed} is not answering", "databases": databases}
    return json_response({**body, **extra}, status=503)


def _shown(settings: Settings):  # noqa: ANN202 - a predicate or None
    """Which db_ids this caller may see named: every one with no authentication configured (the whole API is open
    then, /sessions answers for any db_id) or with AGNO_READYZ_DETAILS=true; with OS_SECURITY_KEY, every one to
    the key's bearer; in JWT mode, to a token with the admin scope (its own tenant's only, under tenants); else
    None: status only."""
    if settings.readyz_details or not settings.authenticated:
        return lambda _db_id: True
    if settings.jwt is None:
        return (lambda _db_id: True) if key_accepted(request.headers.get("Authorization"),
                                                     settings.security_key or "") else None
    admin, tenant = admin_tenant(settings.jwt)
    if not admin:
        return None
    tenants = {db.db_id: db.tenant for db in settings.databases}
    return lambda db_id: tenant is None or tenants.get(db_id) == tenant


def _probe(db: Database) -> str:
    """`ok` when `db` answers a round trip on a connection of its own, else `unavailable` (logged)."""
    try:
        db.ping()
        return "ok"
    except StorageError as exc:
        log.warning("readiness check failed", extra={"fields": {"db_id": db.config.db_id, "pool": db.pool,
                                                                "error": str(exc)}})
        return "unavailable"
