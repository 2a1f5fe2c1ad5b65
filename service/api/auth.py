"""JWT mode's gate, in AgentOS's order: token (401), then the route's scope (403); what the token proves
becomes the request's Caller, which every route and the database resolution apply."""

from __future__ import annotations

from flask import g, request

from service.auth.caller import UNRESTRICTED, Caller
from service.auth.scopes import grants, insufficient, is_admin, required_scope, token_scopes
from service.auth.settings import JwtSettings
from service.auth.tokens import TokenRejected, bearer_token, storable, verified_claims
from service.rules.errors import ApiError


class AuthDenied(Exception):
    """The request stops here: 401 (token) or 403 (scope), with AgentOS's detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def authenticate(cfg: JwtSettings) -> Caller:
    """Verify the bearer token and the route's scope; the Caller the rest of the request acts as."""
    try:
        claims = verified_claims(bearer_token(request.headers.get("Authorization")), cfg)
    except TokenRejected as exc:
        raise AuthDenied(401, exc.detail) from None
    tenant = _tenant(claims, cfg)
    scopes = token_scopes(claims.get("scopes", []))
    if cfg.authorization:
        needed = required_scope(request.method, request.path)
        if needed and not grants(scopes, needed, cfg.admin_scope):
            raise AuthDenied(403, insufficient(needed))
    sub = claims.get("sub")
    # Deviation `jwt-empty-sub`: "" is no identity anywhere (without isolation AgentOS stamps it on create).
    user_id = sub if isinstance(sub, str) and sub else None
    admin = is_admin(scopes, cfg.admin_scope)
    return Caller(user_id=user_id, isolated=cfg.user_isolation and not admin, tenant=tenant, admin=admin)


def _tenant(claims: dict, cfg: JwtSettings) -> str | None:
    """Extension `jwt-tenants`: with a tenant claim configured, every token must name its tenant."""
    if not cfg.tenant_claim:
        return None
    value = claims.get(cfg.tenant_claim)
    if value is None:
        raise AuthDenied(401, f'Invalid token: Token is missing the "{cfg.tenant_claim}" claim')
    if not isinstance(value, str) or not value or not storable(value):
        raise AuthDenied(401, f'Invalid token: The "{cfg.tenant_claim}" claim must be a non-empty string')
    return value


def admin_tenant(cfg: JwtSettings) -> tuple[bool, str | None]:
    """Whether the request carries a valid token with the admin scope, and the tenant it is pinned to (if any);
    never raises: operator endpoints answer less, not 401, to a caller without one."""
    try:
        claims = verified_claims(bearer_token(request.headers.get("Authorization")), cfg)
        tenant = _tenant(claims, cfg)
    except (TokenRejected, AuthDenied):
        return False, None
    return is_admin(token_scopes(claims.get("scopes", [])), cfg.admin_scope), tenant


def require_admin(cfg: JwtSettings | None) -> None:
    """Operator routes: under JWT only a token with the admin scope passes (403 in AgentOS's words otherwise);
    without JWT, whoever got this far holds the security key (or the service has no authentication at all)."""
    if cfg is not None and not current_caller().admin:
        raise ApiError(403, insufficient(cfg.admin_scope))


def current_caller() -> Caller:
    """The Caller of the request being served (unrestricted outside JWT mode)."""
    return g.get("caller") or UNRESTRICTED
