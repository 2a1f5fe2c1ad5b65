"""The authentication gate without HTTP: what an Authorization header proves for `METHOD path`, in AgentOS's order
(token 401, then the route's scope 403), so the Flask service and the event-serving process decide alike."""

from __future__ import annotations

from service.auth.caller import Caller
from service.auth.scopes import grants, insufficient, is_admin, required_scope, token_scopes
from service.auth.settings import JwtSettings
from service.auth.tokens import TokenRejected, bearer_token, key_accepted, storable, verified_claims

KEY_MISSING = "Authorization header required"
KEY_INVALID = "Invalid authentication token"


class AuthDenied(Exception):
    """The request stops here: 401 (token) or 403 (scope), with AgentOS's detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def jwt_caller(header: str | None, method: str, path: str, cfg: JwtSettings) -> Caller:
    """Verify the bearer token and the route's scope; the Caller the rest of the request acts as."""
    try:
        claims = verified_claims(bearer_token(header), cfg)
    except TokenRejected as exc:
        raise AuthDenied(401, exc.detail) from None
    tenant = token_tenant(claims, cfg)
    scopes = token_scopes(claims.get("scopes", []))
    if cfg.authorization:
        needed = required_scope(method, path)
        if needed and not grants(scopes, needed, cfg.admin_scope):
            raise AuthDenied(403, insufficient(needed))
    sub = claims.get("sub")
    # Deviation `jwt-empty-sub`: "" is no identity anywhere (without isolation AgentOS stamps it on create).
    user_id = sub if isinstance(sub, str) and sub else None
    admin = is_admin(scopes, cfg.admin_scope)
    return Caller(user_id=user_id, isolated=cfg.user_isolation and not admin, tenant=tenant, admin=admin)


def token_tenant(claims: dict, cfg: JwtSettings) -> str | None:
    """Extension `jwt-tenants`: with a tenant claim configured, every token must name its tenant."""
    if not cfg.tenant_claim:
        return None
    value = claims.get(cfg.tenant_claim)
    if value is None:
        raise AuthDenied(401, f'Invalid token: Token is missing the "{cfg.tenant_claim}" claim')
    if not isinstance(value, str) or not value or not storable(value):
        raise AuthDenied(401, f'Invalid token: The "{cfg.tenant_claim}" claim must be a non-empty string')
    return value


def key_refusal(header: str | None, key: str) -> str | None:
    """OS_SECURITY_KEY mode: AgentOS's 401 detail for this Authorization value, or None when the key is given."""
    if not header:
        return KEY_MISSING
    return None if key_accepted(header, key) else KEY_INVALID
