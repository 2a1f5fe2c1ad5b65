"""JWT mode's gate, in AgentOS's order: token (401), then the route's scope (403); what the token proves
becomes the request's Caller, which every route and the database resolution apply."""

from __future__ import annotations

from flask import g, request

from service.auth.caller import UNRESTRICTED, Caller
from service.auth.gate import AuthDenied, jwt_caller, token_tenant
from service.auth.scopes import insufficient, is_admin, token_scopes
from service.auth.settings import JwtSettings
from service.auth.tokens import TokenRejected, bearer_token, verified_claims
from service.rules.errors import ApiError


def authenticate(cfg: JwtSettings) -> Caller:
    """Verify the request's bearer token and the route's scope; the Caller the rest of the request acts as."""
    return jwt_caller(request.headers.get("Authorization"), request.method, request.path, cfg)


def admin_tenant(cfg: JwtSettings) -> tuple[bool, str | None]:
    """Whether the request carries a valid token with the admin scope, and the tenant it is pinned to (if any);
    never raises: operator endpoints answer less, not 401, to a caller without one."""
    try:
        claims = verified_claims(bearer_token(request.headers.get("Authorization")), cfg)
        tenant = token_tenant(claims, cfg)
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
