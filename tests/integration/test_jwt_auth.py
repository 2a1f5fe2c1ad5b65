"""JWT mode's gate: AgentOS's order and wordings for every refused token, its scope rules, and the safe
defaults (exp required, issuer not echoed, WWW-Authenticate on every 401)."""

from __future__ import annotations

import json
import time

import jwt as pyjwt
import pytest

from tests.support.jwt_tokens import RsaKey, bearer, claims, hand_made, hs, hs_secret, unsigned

SECRET = hs_secret()


@pytest.fixture
def hs_client(make_app):
    """HS256 with scopes checked and AgentOS's isolation default, so only the gate is under test here."""
    app = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256", AGNO_AUTHORIZATION="true",
                   AGNO_USER_ISOLATION="false")
    return app.test_client()


def detail(response) -> str:
    return json.loads(response.data)["detail"]


def refused(client, token: str | None, path: str = "/sessions", status: int = 401):
    headers = {} if token is None else {"Authorization": token}
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.data
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"  # deviation jwt-www-authenticate
    return detail(response)


def test_a_valid_token_reads(hs_client) -> None:
    assert hs_client.get("/sessions", headers=bearer(hs(SECRET))).status_code == 200


@pytest.mark.parametrize(("header", "wording"), [
    (None, "Authorization header missing"),
    ("", "Authorization header missing"),
    ("Bearer   ", "Authorization header missing"),
    ("Bearer", "Invalid token: Not enough segments"),
    ("Basic dXNlcjpwdw==", "Invalid token: Not enough segments"),
    ("Bearer a.b.c", "Invalid token: Invalid header padding"),
    ("Bearer agno_pat_abc", "Service accounts are not enabled on this AgentOS instance"),
])
def test_malformed_headers(hs_client, header: str | None, wording: str) -> None:
    assert refused(hs_client, header) == wording


def test_bare_and_any_case_scheme_are_accepted(hs_client) -> None:
    token = hs(SECRET)
    for header in (token, f"BEARER   {token}", f"bearer {token}"):
        assert hs_client.get("/sessions", headers={"Authorization": header}).status_code == 200


def test_time_claims_are_refused_with_agentos_wordings(hs_client) -> None:
    now = int(time.time())
    assert refused(hs_client, "Bearer " + hs(SECRET, ttl=-60)) == "Token has expired"
    assert hs_client.get("/sessions", headers=bearer(hs(SECRET, ttl=-5))).status_code == 200  # 10 s leeway
    assert refused(hs_client, "Bearer " + hs(SECRET, nbf=now + 120)) == (
        "Invalid token: The token is not yet valid (nbf)")
    assert refused(hs_client, "Bearer " + hs(SECRET, iat=now + 120)) == (
        "Invalid token: The token is not yet valid (iat)")
    assert refused(hs_client, "Bearer " + hs(SECRET, exp="soon")) == (
        "Invalid token: Expiration Time claim (exp) must be an integer.")


def test_tokens_without_exp_are_refused_by_default(hs_client, make_app) -> None:
    assert refused(hs_client, "Bearer " + hs(SECRET, ttl=None)) == 'Invalid token: Token is missing the "exp" claim'
    lenient = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256", AGNO_JWT_REQUIRE_EXP="false")
    assert lenient.test_client().get("/sessions", headers=bearer(hs(SECRET, ttl=None))).status_code == 200


def test_signature_alg_and_tampering(hs_client) -> None:
    token = hs(SECRET)
    head, payload, signature = token.split(".")
    forged = pyjwt.utils.base64url_encode(json.dumps(claims(sub="admin", scopes=["agent_os:admin"])).encode())
    assert refused(hs_client, f"Bearer {head}.{forged.decode()}.{signature}") == (
        "Invalid token: Signature verification failed")
    assert refused(hs_client, "Bearer " + hs("another-secret-of-sufficient-length-0123456789")) == (
        "Invalid token: Signature verification failed")
    assert refused(hs_client, "Bearer " + unsigned(claims())) == "Invalid token: The specified alg value is not allowed"
    rs = RsaKey().sign(claims())
    assert refused(hs_client, "Bearer " + rs) == "Invalid token: The specified alg value is not allowed"
    other_hs = pyjwt.encode(claims(), SECRET, algorithm="HS512")
    assert refused(hs_client, "Bearer " + other_hs) == "Invalid token: The specified alg value is not allowed"


def test_claim_types_and_reserved_subjects(hs_client) -> None:
    assert refused(hs_client, "Bearer " + hs(SECRET, sub=5)) == "Invalid token: Subject must be a string"
    assert refused(hs_client, "Bearer " + hs(SECRET, jti=5)) == "Invalid token: JWT ID must be a string"
    for sub in ("sa:robot", "__scheduler__", "__oauth__:client"):
        assert refused(hs_client, "Bearer " + hs(SECRET, sub=sub)) == "Invalid token subject"
    not_object = pyjwt.api_jws.encode(b"[1,2]", SECRET, algorithm="HS256")
    assert refused(hs_client, "Bearer " + not_object) == "Invalid token: Invalid payload string: must be a json object"


def test_rs256_key_confusion_is_refused(make_app) -> None:
    """An HS256 token signed with the service's public key must not pass as RS256."""
    key = RsaKey()
    client = make_app(JWT_VERIFICATION_KEY=key.public_pem).test_client()
    assert client.get("/sessions", headers=bearer(key.sign(claims()))).status_code == 200
    confused = hand_made({"alg": "HS256", "typ": "JWT"}, claims(), key.public_pem.encode())
    assert refused(client, "Bearer " + confused) == "Invalid token: The specified alg value is not allowed"
    assert refused(client, "Bearer " + RsaKey().sign(claims())) == "Invalid token: Signature verification failed"


def test_audience_and_issuer(make_app) -> None:
    key = RsaKey()
    client = make_app(JWT_VERIFICATION_KEY=key.public_pem, AGNO_JWT_VERIFY_AUDIENCE="true", AGNO_OS_ID="os-1",
                      AGNO_JWT_ISSUER="https://idp.example").test_client()
    good = {"aud": "os-1", "iss": "https://idp.example"}
    assert client.get("/sessions", headers=bearer(key.sign(claims(**good)))).status_code == 200
    assert client.get("/sessions", headers=bearer(key.sign(claims(aud=["x", "os-1"], iss=good["iss"])))
                      ).status_code == 200
    assert refused(client, "Bearer " + key.sign(claims(iss=good["iss"]))) == (
        'Invalid token: Token is missing the "aud" claim. Audience verification requires this claim to be present '
        "in the token.")
    assert refused(client, "Bearer " + key.sign(claims(aud="other", iss=good["iss"]))) == (
        "Invalid token audience - token not valid for this AgentOS instance")
    assert refused(client, "Bearer " + key.sign(claims(aud="os-1"))) == (
        'Invalid token: Token is missing the "iss" claim. Issuer verification requires this claim to be present '
        "in the token.")
    wrong_issuer = refused(client, "Bearer " + key.sign(claims(aud="os-1", iss="https://evil.example")))
    assert wrong_issuer == "Invalid token: Invalid issuer"  # deviation jwt-issuer-not-echoed
    assert "idp.example" not in wrong_issuer


def test_jwks_by_kid_and_fallback(make_app, tmp_path) -> None:
    k1, fallback = RsaKey("k1"), RsaKey()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k1.jwk(), fallback.jwk()]}))
    client = make_app(JWT_JWKS_FILE=str(path)).test_client()
    assert client.get("/sessions", headers=bearer(k1.sign(claims()))).status_code == 200
    assert client.get("/sessions", headers=bearer(fallback.sign(claims()))).status_code == 200
    assert refused(client, "Bearer " + hand_made({"alg": "RS256", "kid": 5}, claims())) == (
        "Invalid token: Key ID header parameter must be a string")
    only_kid = tmp_path / "only.json"
    only_kid.write_text(json.dumps({"keys": [k1.jwk()]}))
    strict = make_app(JWT_JWKS_FILE=str(only_kid)).test_client()
    assert refused(strict, "Bearer " + RsaKey("k9").sign(claims())) == (
        "Invalid token: No verification keys configured")


def test_open_paths_and_unknown_paths(hs_client) -> None:
    for path in ("/health", "/healthz", "/readyz", "/openapi.json", "/openapi.yaml"):
        assert hs_client.get(path).status_code == 200, path
    assert refused(hs_client, None, "/nope") == "Authorization header missing"
    assert hs_client.get("/nope", headers=bearer(hs(SECRET))).status_code == 404
    assert hs_client.options("/sessions").status_code == 405  # OPTIONS skips auth, then routing answers


def test_security_key_is_ignored_once_jwt_is_on(make_app) -> None:
    client = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256", OS_SECURITY_KEY="secret-key"
                      ).test_client()
    assert refused(client, "Bearer secret-key") == "Invalid token: Not enough segments"


def test_auth_errors_carry_cors_grants_for_allowed_origins(hs_client) -> None:
    response = hs_client.get("/sessions", headers={"Origin": "https://agno.com"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://agno.com"
    assert response.headers["Access-Control-Allow-Methods"] == "*"
    preflight = hs_client.options("/sessions", headers={"Origin": "https://agno.com",
                                                        "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("GET", "/sessions", "sessions:read"),
    ("GET", "/sessions/x", "sessions:read"),
    ("GET", "/sessions/x/runs", "sessions:read"),
    ("GET", "/sessions/x/run-previews", "sessions:read"),
    ("GET", "/sessions/x/runs/r", "sessions:read"),
    ("POST", "/sessions", "sessions:write"),
    ("POST", "/sessions/x/rename", "sessions:write"),
    ("PATCH", "/sessions/x", "sessions:write"),
    ("PATCH", "/sessions/x/state", "sessions:write"),
    ("DELETE", "/sessions", "sessions:delete"),
    ("DELETE", "/sessions/x", "sessions:delete"),
])
def test_each_route_needs_its_scope_before_validation(hs_client, method: str, path: str, scope: str) -> None:
    """403 before 422: the body here is invalid everywhere, yet the scope is what is answered."""
    others = [s for s in ("sessions:read", "sessions:write", "sessions:delete") if s != scope]
    response = hs_client.open(path + "?limit=0&type=robot", method=method, data=b"{bad",
                              content_type="application/json", headers=bearer(hs(SECRET, scopes=others)))
    assert response.status_code == 403
    assert detail(response) == f"Insufficient permissions. Required scope(s): {scope}"
    assert "WWW-Authenticate" not in response.headers
    allowed = hs_client.open(path + "?limit=0&type=robot", method=method, data=b"{bad",
                             content_type="application/json", headers=bearer(hs(SECRET, scopes=[scope])))
    assert allowed.status_code not in (401, 403), allowed.data


@pytest.mark.parametrize(("scopes", "granted"), [
    (["sessions:read"], True),
    ("sessions:read", True),  # one string is one scope
    (["agent_os:admin"], True),
    (["sessions:*:read"], True),
    (["sessions:s1:read"], False),
    (["sessions:*"], False),
    (["*"], False),
    (["admin"], False),
    (["Sessions:read"], False),
    ("sessions:read sessions:write", False),  # never split on spaces
    (["sessions:write", "sessions:delete"], False),
    (["agent_os:admin", 5], False),  # a non-string entry denies, even next to admin
    ({"sessions": "read"}, False),
    ([], False),
])
def test_scope_rules(hs_client, scopes, granted: bool) -> None:
    response = hs_client.get("/sessions", headers=bearer(hs(SECRET, scopes=scopes)))
    assert response.status_code == (200 if granted else 403)


def test_a_key_without_authorization_authenticates_but_checks_no_scope(make_app) -> None:
    client = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256").test_client()
    assert client.get("/sessions", headers=bearer(hs(SECRET, scopes=[]))).status_code == 200
    assert refused(client, None) == "Authorization header missing"


def test_custom_admin_scope_replaces_the_default(make_app) -> None:
    client = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256", AGNO_AUTHORIZATION="true",
                      AGNO_JWT_ADMIN_SCOPE="platform:root").test_client()
    assert client.get("/sessions", headers=bearer(hs(SECRET, scopes=["platform:root"]))).status_code == 200
    assert client.get("/sessions", headers=bearer(hs(SECRET, scopes=["agent_os:admin"]))).status_code == 403


UNSTORABLE_SUBS = ["alice\x00", "\x00", "a\ud800b"]  # NUL; a lone surrogate (a `\ud800` escape in the JSON)
EVERY_ROUTE = [
    ("GET", "/sessions", None), ("POST", "/sessions", {"session_name": "x"}), ("DELETE", "/sessions",
                                                                                 {"session_ids": ["s"]}),
    ("GET", "/sessions/s", None), ("PATCH", "/sessions/s", {"session_name": "y"}), ("DELETE", "/sessions/s", None),
    ("POST", "/sessions/s/rename", {"session_name": "z"}), ("GET", "/sessions/s/runs", None),
    ("GET", "/sessions/s/runs/r", None), ("PATCH", "/sessions/s/state", {"k": 1}),
]


@pytest.mark.parametrize("isolation", ["true", "false"])
@pytest.mark.parametrize("sub", UNSTORABLE_SUBS)
def test_a_subject_postgresql_cannot_store_is_401_on_every_route(make_app, isolation: str, sub: str) -> None:
    """Deviation `jwt-unstorable-sub`: a validly signed token whose `sub` PostgreSQL text cannot hold is refused
    at the gate with AgentOS's wording for a subject it will not act as (it used to reach the database: 500)."""
    client = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256", AGNO_AUTHORIZATION="true",
                      AGNO_USER_ISOLATION=isolation).test_client()
    headers = bearer(hs(SECRET, sub=sub, scopes=["agent_os:admin"] if isolation == "false" else
                        ["sessions:read", "sessions:write", "sessions:delete"]))
    for method, path, body in EVERY_ROUTE:
        response = client.open(path, method=method, json=body, headers=headers)
        assert (response.status_code, detail(response)) == (401, "Invalid token subject"), (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_tenant_claim_postgresql_cannot_store_is_401(make_app, pg_dsn: str) -> None:
    mapping = {"acme-db": {"dsn": pg_dsn, "tenant": "acme"}}
    client = make_app(JWT_VERIFICATION_KEY=SECRET, AGNO_JWT_ALGORITHM="HS256", AGNO_JWT_TENANT_CLAIM="tenant",
                      AGNO_SESSION_DSN_MAP=json.dumps(mapping)).test_client()
    for tenant in ("acme\x00", "a\udfffb"):
        assert refused(client, "Bearer " + hs(SECRET, sub="alice", tenant=tenant)) == \
            'Invalid token: The "tenant" claim must be a non-empty string'
    assert client.get("/sessions", headers=bearer(hs(SECRET, sub="alice", tenant="acme"))).status_code == 200
