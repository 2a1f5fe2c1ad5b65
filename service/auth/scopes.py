"""Which scope a /sessions route needs and whether a token's scopes grant it, by AgentOS's rules."""

from __future__ import annotations

from fnmatch import fnmatchcase

# AgentOS's default mappings for the sessions family, in its lookup order: exact key first, then the patterns,
# where `*` spans `/` (fnmatch). PATCH /sessions/{id}/state (this service's state merge) falls under PATCH; the
# archive's POSTs and the hold's PUT are writes (a hold needs the admin scope besides: api/lifecycle.py).
ROUTE_SCOPES = (
    ("GET", "/sessions", "sessions:read"),
    ("GET", "/sessions/*", "sessions:read"),
    ("POST", "/sessions", "sessions:write"),
    ("POST", "/sessions/*/rename", "sessions:write"),
    ("POST", "/sessions/*/archive", "sessions:write"),
    ("POST", "/sessions/*/restore", "sessions:write"),
    ("PUT", "/sessions/*/hold", "sessions:write"),
    ("POST", "/sessions/-/import", "sessions:write"),  # extension `portability`: an import writes sessions
    ("PATCH", "/sessions/*", "sessions:write"),
    ("DELETE", "/sessions", "sessions:delete"),
    ("DELETE", "/sessions/*", "sessions:delete"),
)


def required_scope(method: str, path: str) -> str | None:
    """The scope `METHOD path` needs, or None (the route then answers for itself: 404/405)."""
    for m, pattern, scope in ROUTE_SCOPES:
        if m == method and pattern == path:
            return scope
    for m, pattern, scope in ROUTE_SCOPES:
        if m == method and fnmatchcase(path, pattern):
            return scope
    return None


def token_scopes(claim: object) -> list:
    """The `scopes` claim as AgentOS reads it: a list as is, one string as one item (never split), else none."""
    if isinstance(claim, str):
        return [claim]
    return claim if isinstance(claim, list) else []


def grants(scopes: list, required: str, admin_scope: str) -> bool:
    """The admin scope, the exact scope or `<family>:*:<action>`; any non-string entry denies everything."""
    if any(not isinstance(s, str) for s in scopes):
        return False
    family, _, action = required.partition(":")
    return any(s in (admin_scope, required, f"{family}:*:{action}") for s in scopes)


def is_admin(scopes: list, admin_scope: str) -> bool:
    """Admins are unscoped by user isolation."""
    return admin_scope in [s for s in scopes if isinstance(s, str)]


def insufficient(required: str) -> str:
    """AgentOS's 403 wording."""
    return f"Insufficient permissions. Required scope(s): {required}"
