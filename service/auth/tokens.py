"""Bearer credentials: read from the Authorization header in one place, static keys compared in constant time, and
JWTs verified as AgentOS verifies them (PyJWT, same order, same 401 wordings), with the safe defaults declared in
docs/compatibility.md: `exp` required, the configured issuer never echoed."""

from __future__ import annotations

import hmac
from typing import Any

import jwt

from service.auth.settings import JwtSettings
from service.rules.validation.storable import storable_errors

SERVICE_ACCOUNT_TOKEN = "agno_pat_"
RESERVED_SUB_PREFIXES = ("sa:", "__oauth__:")  # service accounts, MCP OAuth clients
SCHEDULER_SUB = "__scheduler__"
MISSING_HEADER = "Authorization header missing"
INVALID_SUBJECT = "Invalid token subject"  # AgentOS's 401 for a `sub` it will not act as


class TokenRejected(Exception):
    """The token does not authenticate the request: 401 with this detail."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def bearer_token(header: str | None, *, bare: bool = True) -> str:
    """The credential in an Authorization value: what follows `bearer ` (any case), trimmed; a value without that
    scheme is the credential whole when `bare` (AgentOS reads JWTs and OS_SECURITY_KEY so), else none."""
    if not header:
        return ""
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return header.strip() if bare else ""


def key_accepted(header: str | None, key: str) -> bool:
    """OS_SECURITY_KEY's check as AgentOS does it: `Bearer <key>` with any-case scheme, or the bare key (a lone
    `Bearer` is the scheme without a credential, never a bare key)."""
    return (header or "").lower() != "bearer" and _same(bearer_token(header), key)


def bearer_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>` (scheme in any case, no bare form), compared in constant time."""
    return _same(bearer_token(header, bare=False), token)


def _same(offered: str, expected: str) -> bool:
    """A non-empty credential equal to the expected one, compared in constant time."""
    return bool(offered) and hmac.compare_digest(offered.encode("utf-8"), expected.encode("utf-8"))


def storable(value: str) -> bool:
    """Whether PostgreSQL text can hold `value` (no NUL, no lone surrogate): the rule request values are held to."""
    return not storable_errors(value, (), varchar=True)


def verified_claims(token: str, cfg: JwtSettings) -> dict[str, Any]:
    """The token's claims once signature, times, audience, issuer and subject pass; else TokenRejected."""
    if not token:
        raise TokenRejected(MISSING_HEADER)
    if token.startswith(SERVICE_ACCOUNT_TOKEN):
        raise TokenRejected("Service accounts are not enabled on this AgentOS instance")
    try:
        payload = _decoded(token, cfg)
        _check_audience(payload, cfg)
        _check_issuer(payload, cfg)
    except jwt.InvalidAudienceError:
        raise TokenRejected("Invalid token audience - token not valid for this AgentOS instance") from None
    except jwt.ExpiredSignatureError:
        raise TokenRejected("Token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"Invalid token: {exc}") from None
    except Exception as exc:  # PyJWT's key errors are not InvalidTokenError; AgentOS words them so
        raise TokenRejected(f"Error decoding token: {exc}") from None
    sub = payload.get("sub")
    if isinstance(sub, str) and (sub.startswith(RESERVED_SUB_PREFIXES) or sub == SCHEDULER_SUB):
        raise TokenRejected(INVALID_SUBJECT)
    if isinstance(sub, str) and not storable(sub):  # deviation `jwt-unstorable-sub`: a 401 here, never a 500 later
        raise TokenRejected(INVALID_SUBJECT)
    return payload


def _decoded(token: str, cfg: JwtSettings) -> dict[str, Any]:
    """JWKS first (by kid, else the kid-less key), then each static key; the last failure is the answer."""
    options: dict[str, Any] = {"verify_aud": False}
    if cfg.require_exp:
        options["require"] = ["exp"]
    kwargs = {"algorithms": [cfg.algorithm], "leeway": cfg.leeway, "options": options}
    last: Exception | None = None
    if cfg.jwks:
        try:
            jwk = cfg.jwk_for(jwt.get_unverified_header(token).get("kid"))
            if jwk is not None:
                return jwt.decode(token, jwk.key, **kwargs)
        except jwt.ExpiredSignatureError:
            raise
        except jwt.InvalidTokenError as exc:
            if not cfg.keys:
                raise
            last = exc
    for key in cfg.keys:
        try:
            return jwt.decode(token, key, **kwargs)
        except jwt.ExpiredSignatureError:
            raise
        except jwt.InvalidTokenError as exc:
            last = exc
    raise last or jwt.InvalidTokenError("No verification keys configured")


def _check_audience(payload: dict[str, Any], cfg: JwtSettings) -> None:
    """With verification on, `aud` (a string or a list) must name the expected audience."""
    if not (cfg.verify_audience and cfg.audience):
        return
    aud = payload.get("aud")
    if aud is None:
        raise jwt.InvalidTokenError('Token is missing the "aud" claim. Audience verification requires this claim '
                                    "to be present in the token.")
    offered = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else ([aud] if aud else [])
    if cfg.audience not in offered:
        raise jwt.InvalidAudienceError("audience mismatch")


def _check_issuer(payload: dict[str, Any], cfg: JwtSettings) -> None:
    """A pinned issuer must match exactly. Deviation `jwt-issuer-not-echoed`: the 401 names neither issuer."""
    if not cfg.issuer:
        return
    if payload.get("iss") is None:
        raise jwt.InvalidTokenError('Token is missing the "iss" claim. Issuer verification requires this claim '
                                    "to be present in the token.")
    if payload["iss"] != cfg.issuer:
        raise jwt.InvalidIssuerError("Invalid issuer")
