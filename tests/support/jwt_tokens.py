"""Keys made at test time and tokens signed with them: nothing secret is ever committed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class RsaKey:
    """A fresh RSA key pair: the private half signs, the public PEM/JWK is what the service is given."""

    def __init__(self, kid: str | None = None) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWKS entry."""
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        data |= {"use": "sig", "alg": "RS256"}
        if self.kid:
            data["kid"] = self.kid
        return data

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None, alg: str = "RS256") -> str:
        head = dict(headers or {})
        if self.kid and "kid" not in head:
            head["kid"] = self.kid
        return jwt.encode(claims, self.private, algorithm=alg, headers=head or None)


def hs_secret() -> str:
    """A random HS256 secret (≥ 32 bytes, as PyJWT recommends)."""
    return secrets.token_urlsafe(48)


def claims(sub: str | None = "alice", scopes: Any = ("sessions:read", "sessions:write", "sessions:delete"),
           ttl: int | None = 3600, **extra: Any) -> dict[str, Any]:
    """A token's claims: `sub`, `scopes`, `exp` ttl seconds ahead (None: no exp), plus anything else."""
    now = int(time.time())
    body: dict[str, Any] = {"iat": now}
    if sub is not None:
        body["sub"] = sub
    if scopes is not None:
        body["scopes"] = list(scopes) if isinstance(scopes, tuple) else scopes
    if ttl is not None:
        body["exp"] = now + ttl
    return body | extra


def hs(secret: str, **kwargs: Any) -> str:
    """An HS256 token with claims(**kwargs)."""
    return jwt.encode(claims(**kwargs), secret, algorithm="HS256")


def _part(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """An `alg: none` token (no signature), built by hand since PyJWT will not make one."""
    return f"{_part(header or {'alg': 'none', 'typ': 'JWT'})}.{_part(payload)}."


def hand_made(header: dict[str, Any], payload: dict[str, Any], hmac_key: bytes | None = None) -> str:
    """A token PyJWT would refuse to make: any header; HMAC-SHA256-signed with `hmac_key` (e.g. a public PEM, for
    key confusion), else a junk signature."""
    signing_input = f"{_part(header)}.{_part(payload)}"
    digest = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest() if hmac_key else b"junk"
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


# One HS256 deployment of the isolation tests: its settings and bearer headers for its users and an admin.
ISOLATION_SECRET = hs_secret()
SESSION_SCOPES = ("sessions:read", "sessions:write", "sessions:delete")
JWT_ENV = {"JWT_VERIFICATION_KEY": ISOLATION_SECRET, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_AUTHORIZATION": "true"}


def token(sub: str | None, scopes: Any = SESSION_SCOPES, **extra: Any) -> dict[str, str]:
    """The bearer header of a token of the isolation deployment."""
    return bearer(hs(ISOLATION_SECRET, sub=sub, scopes=scopes, **extra))


ALICE, BOB, EMPTY = token("alice"), token("bob"), token("")
ADMIN = token("root", scopes=("agent_os:admin",))
