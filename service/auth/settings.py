"""JWT settings from the environment, with every key parsed at start-up so a bad key stops the process, not a
request."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.core.env import ConfigError, env_flag, env_int

DEFAULT_ALGORITHM = "RS256"  # AgentOS's default
DEFAULT_ADMIN_SCOPE = "agent_os:admin"
DEFAULT_LEEWAY = 10
# RFC 7518 §3.2: an HMAC key at least as long as the hash output (bytes).
HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
WEAK_KEY_SWITCH = "AGNO_JWT_ALLOW_WEAK_KEY"


@dataclass(frozen=True)
class JwtSettings:
    """How tokens are verified and what they grant; present only when a key source is configured."""

    keys: tuple[Any, ...]  # static verification keys, prepared for `algorithm`, tried in order
    jwks: tuple[tuple[str, Any], ...]  # (kid or "", PyJWK) from JWT_JWKS_FILE; "" is the kid-less fallback
    algorithm: str = DEFAULT_ALGORITHM
    authorization: bool = False  # scopes checked (AgentOS: authorization=True)
    verify_audience: bool = False
    audience: str | None = None
    issuer: str | None = None
    admin_scope: str = DEFAULT_ADMIN_SCOPE
    leeway: int = DEFAULT_LEEWAY
    user_isolation: bool = True  # deviation `jwt-isolation-default`: AgentOS's default is off
    require_exp: bool = True  # deviation `jwt-require-exp`: AgentOS accepts tokens without exp forever
    tenant_claim: str | None = None  # extension `jwt-tenants`

    def jwk_for(self, kid: object) -> Any | None:
        """The JWKS key for a token's kid, else the kid-less key, as AgentOS looks them up."""
        found = dict(self.jwks)
        if isinstance(kid, str) and kid and kid in found:
            return found[kid]
        return found.get("")


def _algorithm(env: Mapping[str, str]) -> Any:
    """The one accepted `alg`, and PyJWT's implementation of it (cryptography makes RS/ES/PS/EdDSA available)."""
    from jwt.algorithms import get_default_algorithms

    name = (env.get("AGNO_JWT_ALGORITHM") or DEFAULT_ALGORITHM).strip()
    known = {k: v for k, v in get_default_algorithms().items() if k != "none"}
    if name not in known:
        raise ConfigError(f"AGNO_JWT_ALGORITHM must be one of {', '.join(sorted(known))}, got {name!r}")
    return name, known[name]


def _static_key(env: Mapping[str, str]) -> str | None:
    """JWT_VERIFICATION_KEY, or the content of JWT_VERIFICATION_KEY_FILE (a mounted secret)."""
    inline, path = env.get("JWT_VERIFICATION_KEY"), env.get("JWT_VERIFICATION_KEY_FILE")
    if inline and path:
        raise ConfigError("set JWT_VERIFICATION_KEY or JWT_VERIFICATION_KEY_FILE, not both")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"JWT_VERIFICATION_KEY_FILE {path!r} cannot be read: {exc}") from None
        text = text.rstrip("\r\n")  # the newline an editor or `kubectl create secret --from-file` leaves
        if not text:
            raise ConfigError(f"JWT_VERIFICATION_KEY_FILE {path!r} is empty")
        return text
    return inline or None


def _prepared(name: str, implementation: Any, key: str, where: str) -> Any:
    """The key as PyJWT will use it: an HS secret must not be a PEM key, an RS/ES key must parse."""
    from jwt.exceptions import PyJWTError

    try:
        return implementation.prepare_key(key)
    except (PyJWTError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where} is not a usable {name} key: {exc}") from None


def _strong_enough(name: str, secret: bytes, where: str, env: Mapping[str, str]) -> None:
    """An HS secret shorter than its hash is refused (AgentOS accepts it; the switch restores that)."""
    needed = HMAC_KEY_BYTES.get(name)
    if needed is None or len(secret) >= needed or env_flag(env, WEAK_KEY_SWITCH, False):
        return
    raise ConfigError(f"{where} is {len(secret)} bytes, too short for {name}: RFC 7518 asks for at least {needed} "
                          f"bytes (a random secret: `openssl rand -base64 {needed}`); set {WEAK_KEY_SWITCH}=true "
                          "to accept it anyway, as AgentOS does")


def _jwks(path: str) -> tuple[tuple[str, Any], ...]:
    """Every key of a static JWKS file; a file that does not parse, or a key that does not, stops the start."""
    from jwt import PyJWK
    from jwt.exceptions import PyJWTError

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"JWT_JWKS_FILE {path!r} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"JWT_JWKS_FILE {path!r} is not valid JSON: {exc}") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ConfigError(f"JWT_JWKS_FILE {path!r} must be a JSON object with a non-empty \"keys\" list")
    parsed: dict[str, Any] = {}
    for i, data in enumerate(keys):
        if not isinstance(data, dict):
            raise ConfigError(f"JWT_JWKS_FILE {path!r}: keys[{i}] is not an object")
        try:
            parsed[str(data.get("kid") or "")] = PyJWK.from_dict(data)
        except (PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"JWT_JWKS_FILE {path!r}: keys[{i}] is not a usable key: {exc}") from None
    return tuple(parsed.items())


def load_jwt_settings(env: Mapping[str, str]) -> JwtSettings | None:
    """JWT mode's settings, or None when no key source is configured (OS_SECURITY_KEY or open mode)."""
    authorization = env_flag(env, "AGNO_AUTHORIZATION", False)
    key = _static_key(env)
    jwks_path = env.get("JWT_JWKS_FILE")
    tenant_claim = (env.get("AGNO_JWT_TENANT_CLAIM") or "").strip() or None
    if not key and not jwks_path:
        if authorization:
            raise ConfigError("AGNO_AUTHORIZATION=true needs JWT_VERIFICATION_KEY, JWT_VERIFICATION_KEY_FILE "
                                  "or JWT_JWKS_FILE")
        if tenant_claim:
            raise ConfigError("AGNO_JWT_TENANT_CLAIM needs JWT mode: set a JWT verification key or JWKS file")
        return None
    name, implementation = _algorithm(env)
    where = "JWT_VERIFICATION_KEY_FILE" if env.get("JWT_VERIFICATION_KEY_FILE") else "JWT_VERIFICATION_KEY"
    keys = (_prepared(name, implementation, key, where),) if key else ()
    if key:
        _strong_enough(name, key.encode("utf-8"), where, env)
    jwks = _jwks(jwks_path) if jwks_path else ()
    for kid, jwk in jwks:
        if isinstance(jwk.key, bytes):  # an `oct` key: an HMAC secret
            _strong_enough(name, jwk.key, f"JWT_JWKS_FILE key {kid or '(no kid)'!r}", env)
    verify_audience = env_flag(env, "AGNO_JWT_VERIFY_AUDIENCE", False)
    audience = (env.get("AGNO_JWT_AUDIENCE") or env.get("AGNO_OS_ID") or "").strip() or None
    if verify_audience and not audience:
        raise ConfigError("AGNO_JWT_VERIFY_AUDIENCE=true needs AGNO_JWT_AUDIENCE (or AGNO_OS_ID)")
    admin_scope = (env.get("AGNO_JWT_ADMIN_SCOPE") or DEFAULT_ADMIN_SCOPE).strip()
    return JwtSettings(
        keys=keys,
        jwks=jwks,
        algorithm=name,
        authorization=authorization,
        verify_audience=verify_audience,
        audience=audience,
        issuer=(env.get("AGNO_JWT_ISSUER") or "").strip() or None,
        admin_scope=admin_scope,
        leeway=env_int(env, "AGNO_JWT_LEEWAY", DEFAULT_LEEWAY, 0, 86400, unit="seconds"),
        user_isolation=env_flag(env, "AGNO_USER_ISOLATION", True),
        require_exp=env_flag(env, "AGNO_JWT_REQUIRE_EXP", True),
        tenant_claim=tenant_claim,
    )
