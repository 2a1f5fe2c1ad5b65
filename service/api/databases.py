"""Which database a request means: AgentOS's db_id/table rules, with its wordings."""

from __future__ import annotations

from service.auth.caller import Caller
from service.core.config import Settings
from service.rules.errors import ApiError
from service.storage.pool import Database
from service.storage.registry import Registry
from service.storage.schema import table_exists


def resolve_db(settings: Settings, registry: Registry, db_id: str | None, table: str | None,
               caller: Caller | None = None, read_only: bool = False) -> Database:
    """The database for this request, or the 400/404 AgentOS answers for a bad db_id/table. A caller pinned to
    a tenant (extension `jwt-tenants`) sees only its tenant's databases: another tenant's db_id is unknown.
    A `read_only` request (a GET) gets the database's read replica when it has one; anything else, and so
    every write and each read a write makes, gets the primary."""
    if table and not db_id:
        raise ApiError(400, "The db_id query parameter is required when passing a table")
    db = _configured(settings, registry, db_id, caller)
    if read_only and db.replica is not None:
        db = db.replica
    if table and not (table in db.config.table_names and table_exists(db, table)):
        raise ApiError(404, f"No database with id '{db_id}' has table '{table}'")
    return db


def _configured(settings: Settings, registry: Registry, db_id: str | None, caller: Caller | None) -> Database:
    """The primary of the database the request names (or the default one), by AgentOS's rules."""
    tenant = caller.tenant if caller is not None else None
    if db_id:
        db = registry.get(db_id)
        if db is None or (tenant is not None and db.config.tenant != tenant):
            raise ApiError(404, f"No database found with id '{db_id}'")
        return db
    if tenant is not None:
        return _tenant_default(settings, registry, tenant)
    if settings.require_db_id and len(registry.by_id) > 1:
        raise ApiError(400, "The db_id query parameter is required when using multiple databases")
    db = registry.get(settings.default_db_id) if settings.default_db_id else None
    if db is None:
        raise ApiError(400, "No database is configured on this AgentOS")
    return db


def _tenant_default(settings: Settings, registry: Registry, tenant: str) -> Database:
    """Without db_id a tenant's caller gets AGNO_DEFAULT_DB_ID if it is the tenant's, else its first database."""
    own = [d.db_id for d in settings.databases if d.tenant == tenant]
    if not own:
        raise ApiError(400, "No database is configured on this AgentOS")
    if settings.require_db_id and len(own) > 1:
        raise ApiError(400, "The db_id query parameter is required when using multiple databases")
    db_id = settings.default_db_id if settings.default_db_id in own else own[0]
    return registry.get(db_id)  # type: ignore[return-value]
