"""The contract test's JWT configurations: keys made at start, both servers configured alike, and the tokens the
jwt corpora name ({{T_...}}), minted for each configuration's algorithm, audience and issuer."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from tests.support.jwt_tokens import RsaKey, hand_made, hs_secret, unsigned

OS_ID = "reference-os"  # reference_app's AgentOS id: the default audience
ISSUER = "https://idp.contract.test"
AUDIENCE = "sessions-api"
ALL = ["sessions:read", "sessions:write", "sessions:delete"]


@dataclass
class JwtSetup:
    """One JWT configuration: AgentOS's settings (REF_JWT), the shared key variables, this service's variables."""

    name: str
    reference: dict[str, Any]
    shared_env: dict[str, str]
    service_env: dict[str, str]
    sign: Any  # (claims, headers) -> token
    base_claims: dict[str, Any] = field(default_factory=dict)
    admin_scope: str = "agent_os:admin"
    other_key_sign: Any = None  # a key the servers do not know, same algorithm
    confused: str = ""  # a token in the other family of algorithms, signed with what the servers were given
    kidless_sign: Any = None  # JWKS: the key without a kid, the fallback for any kid

    @property
    def isolated(self) -> bool:
        return bool(self.reference.get("user_isolation"))

    def reference_env(self) -> dict[str, str]:
        return {"REF_JWT": json.dumps(self.reference), **self.shared_env}

    def agno_session_env(self) -> dict[str, str]:
        return {**self.shared_env, "AGNO_AUTHORIZATION": "true", **self.service_env}

    def tokens(self) -> dict[str, str]:
        """Every token variable of the jwt corpora, valid for an hour unless it is about time."""
        now = int(time.time())

        def t(sub: Any = "user-1", scopes: Any = ALL, drop: tuple[str, ...] = (), **extra: Any) -> str:
            body = {"iat": now, "exp": now + 3600, **self.base_claims, "scopes": scopes, **extra}
            if sub is not None:
                body["sub"] = sub
            for name in drop:
                body.pop(name, None)
            return self.sign(body, None)

        good = t()
        head, _, signature = good.split(".")
        tampered_payload = jwt.utils.base64url_encode(json.dumps(
            {"iat": now, "exp": now + 3600, **self.base_claims, "sub": "user-2", "scopes": [self.admin_scope]}
        ).encode()).decode()
        return {
            "T_U1": good,
            "T_U2": t("user-2"),
            "T_U3": t("user-3"),
            "T_ADMIN": t("admin-1", [self.admin_scope]),
            "T_DEFAULT_ADMIN": t("admin-1", ["agent_os:admin"]),
            "T_READ": t(scopes=["sessions:read"]),
            "T_WRITE": t(scopes=["sessions:write"]),
            "T_DELETE": t(scopes=["sessions:delete"]),
            "T_NOSCOPE": t(scopes=[]),
            "T_STRSCOPE": t(scopes="sessions:read"),
            "T_SPACED": t(scopes="sessions:read sessions:write"),
            "T_WILD": t(scopes=["sessions:*:read"]),
            "T_PERID": t(scopes=["sessions:agent-sess-1:read"]),
            "T_STAR": t(scopes=["*", "sessions:*", "admin"]),
            "T_NONSTR": t(scopes=[self.admin_scope, 5]),
            "T_SCOPEOBJ": t(scopes={"sessions": "read"}),
            "T_EMPTYSUB": t(""),
            "T_NOSUB": t(None),
            "T_ADMIN_NOSUB": t(None, [self.admin_scope]),
            "T_EXPIRED": t(exp=now - 3600),
            "T_LEEWAY": t(exp=now - 3),
            "T_EXPSTR": t(exp="tomorrow"),
            "T_NBF": t(nbf=now + 3600),
            "T_IAT": t(iat=now + 3600),
            "T_NOEXP": t(drop=("exp",)),
            "T_SUBINT": t(5),
            "T_JTIINT": t(jti=5),
            "T_RESERVED": t("sa:robot"),
            "T_NULSUB": t("user-1\x00x"),  # a subject PostgreSQL text cannot hold
            "T_SCHEDULER": t("__scheduler__"),
            "T_BADSIG": self.other_key_sign({"iat": now, "exp": now + 3600, **self.base_claims, "sub": "user-1",
                                             "scopes": ALL}, None),
            "T_TAMPERED": f"{head}.{tampered_payload}.{signature}",
            "T_ALGNONE": unsigned({"iat": now, "exp": now + 3600, **self.base_claims, "sub": "user-1",
                                   "scopes": ALL}),
            "T_CONFUSED": self.confused,
            "T_KIDLESS": (self.kidless_sign or self.sign)({"iat": now, "exp": now + 3600, **self.base_claims,
                                                           "sub": "user-1", "scopes": ALL}, None),
            "T_BADKID": hand_made({"alg": self.reference.get("algorithm", "RS256"), "kid": 5}, {"sub": "user-1"}),
            "T_WRONGISS": t(iss="https://evil.example"),
            "T_NOISS": t(drop=("iss",)),
            "T_WRONGAUD": t(aud="someone-else"),
            "T_AUDLIST": t(aud=["someone-else", self.base_claims.get("aud", OS_ID)]),
            "T_NOAUD": t(drop=("aud",)),
            "ISOLATION": "isolated" if self.isolated else "shared",
        }


def _hs(secret: str):
    return lambda claims, headers: jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def _rs(key: RsaKey):
    return lambda claims, headers: key.sign(claims, headers)


def jwt_setups(workdir: Path) -> list[JwtSetup]:
    """The five configurations of the issue, each as AgentOS and as agno-session are told it."""
    secret, stranger_secret = hs_secret(), hs_secret()
    rsa, stranger_rsa = RsaKey(), RsaKey()
    kid_key, kidless_key = RsaKey("contract-kid"), RsaKey()
    jwks = workdir / "jwks.json"
    jwks.write_text(json.dumps({"keys": [kid_key.jwk(), kidless_key.jwk()]}))
    hs_env = {"JWT_VERIFICATION_KEY": secret}
    hs_service = {"AGNO_JWT_ALGORITHM": "HS256"}
    rs_confused = hand_made({"alg": "HS256", "typ": "JWT"}, {"sub": "user-1", "scopes": ALL},
                            rsa.public_pem.encode())
    hs_confused = stranger_rsa.sign({"sub": "user-1", "scopes": ALL})
    return [
        # AgentOS's default isolation (off): this service's switch restores it.
        JwtSetup("jwt-hs256", {"algorithm": "HS256"}, hs_env, {**hs_service, "AGNO_USER_ISOLATION": "false"},
                 _hs(secret), other_key_sign=_hs(stranger_secret), confused=hs_confused),
        JwtSetup("jwt-hs256-isolated", {"algorithm": "HS256", "user_isolation": True}, hs_env, hs_service,
                 _hs(secret), other_key_sign=_hs(stranger_secret), confused=hs_confused),
        JwtSetup("jwt-admin-aud", {"algorithm": "HS256", "user_isolation": True, "admin_scope": "platform:root",
                                   "verify_audience": True},
                 hs_env, {**hs_service, "AGNO_JWT_ADMIN_SCOPE": "platform:root", "AGNO_JWT_VERIFY_AUDIENCE": "true",
                          "AGNO_OS_ID": OS_ID},
                 _hs(secret), base_claims={"aud": OS_ID}, admin_scope="platform:root",
                 other_key_sign=_hs(stranger_secret), confused=hs_confused),
        JwtSetup("jwt-jwks", {"algorithm": "RS256", "user_isolation": True}, {"JWT_JWKS_FILE": str(jwks)}, {},
                 _rs(kid_key), other_key_sign=_rs(RsaKey("contract-kid")), kidless_sign=_rs(kidless_key),
                 confused=hand_made({"alg": "HS256", "typ": "JWT"}, {"sub": "user-1", "scopes": ALL},
                                    kid_key.public_pem.encode())),
        JwtSetup("jwt-rs256", {"algorithm": "RS256", "user_isolation": True, "issuer": ISSUER,
                               "verify_audience": True, "audience": AUDIENCE},
                 {"JWT_VERIFICATION_KEY": rsa.public_pem},
                 {"AGNO_JWT_ISSUER": ISSUER, "AGNO_JWT_VERIFY_AUDIENCE": "true", "AGNO_JWT_AUDIENCE": AUDIENCE},
                 _rs(rsa), base_claims={"iss": ISSUER, "aud": AUDIENCE}, other_key_sign=_rs(stranger_rsa),
                 confused=rs_confused),
    ]
