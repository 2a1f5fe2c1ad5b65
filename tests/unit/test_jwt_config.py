"""JWT settings: defaults as AgentOS's (plus the safe ones), and every bad key or file refused at start-up."""

from __future__ import annotations

import json
import re

import pytest

from service.auth.settings import load_jwt_settings
from service.auth.tokens import bearer_matches, bearer_token, key_accepted
from service.core.config import ConfigError, load_settings
from tests.support.jwt_tokens import RsaKey, hs_secret

DSN = "postgresql://u:p@127.0.0.1:5432/db"


def settings(**env: str):
    return load_settings({"AGNO_PG_DSN": DSN, **env})


def test_no_key_is_no_jwt_mode_and_security_key_stays() -> None:
    plain = settings(OS_SECURITY_KEY="k")
    assert plain.jwt is None and plain.security_key == "k"


def test_defaults_are_agentos_ones_except_the_safe_ones() -> None:
    jwt = settings(JWT_VERIFICATION_KEY=RsaKey().public_pem).jwt
    assert (jwt.algorithm, jwt.admin_scope, jwt.leeway, jwt.authorization) == ("RS256", "agent_os:admin", 10, False)
    assert (jwt.verify_audience, jwt.audience, jwt.issuer, jwt.tenant_claim) == (False, None, None, None)
    assert jwt.user_isolation is True and jwt.require_exp is True  # declared deviations
    off = settings(JWT_VERIFICATION_KEY=hs_secret(), AGNO_JWT_ALGORITHM="HS256", AGNO_USER_ISOLATION="false",
                   AGNO_JWT_REQUIRE_EXP="false").jwt
    assert off.user_isolation is False and off.require_exp is False


def test_every_setting_is_read() -> None:
    jwt = settings(JWT_VERIFICATION_KEY=hs_secret(), AGNO_JWT_ALGORITHM="HS512", AGNO_AUTHORIZATION="true",
                   AGNO_JWT_VERIFY_AUDIENCE="true", AGNO_OS_ID="my-os", AGNO_JWT_ISSUER="https://idp",
                   AGNO_JWT_ADMIN_SCOPE="root", AGNO_JWT_LEEWAY="0").jwt
    assert (jwt.algorithm, jwt.authorization, jwt.verify_audience, jwt.audience) == ("HS512", True, True, "my-os")
    assert (jwt.issuer, jwt.admin_scope, jwt.leeway) == ("https://idp", "root", 0)
    explicit = settings(JWT_VERIFICATION_KEY=hs_secret(), AGNO_JWT_ALGORITHM="HS256", AGNO_OS_ID="os",
                        AGNO_JWT_AUDIENCE="aud").jwt
    assert explicit.audience == "aud"


def test_key_file_is_read_without_its_trailing_newline(tmp_path) -> None:
    key = RsaKey()
    path = tmp_path / "key.pem"
    path.write_text(key.public_pem + "\n")
    assert len(settings(JWT_VERIFICATION_KEY_FILE=str(path)).jwt.keys) == 1
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value-long-enough-for-hmac-use\n")
    hs = settings(JWT_VERIFICATION_KEY_FILE=str(secret), AGNO_JWT_ALGORITHM="HS256").jwt
    assert hs.keys == (b"s3cret-value-long-enough-for-hmac-use",)


def test_jwks_file_keys_by_kid(tmp_path) -> None:
    with_kid, without = RsaKey("k1"), RsaKey()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [with_kid.jwk(), without.jwk()]}))
    jwt = settings(JWT_JWKS_FILE=str(path)).jwt
    assert jwt.keys == () and [kid for kid, _ in jwt.jwks] == ["k1", ""]
    assert jwt.jwk_for("k1") is dict(jwt.jwks)["k1"] and jwt.jwk_for("other") is dict(jwt.jwks)[""]


@pytest.mark.parametrize(("env", "message"), [
    ({"AGNO_AUTHORIZATION": "true"}, "AGNO_AUTHORIZATION=true needs JWT_VERIFICATION_KEY"),
    ({"AGNO_AUTHORIZATION": "maybe"}, "AGNO_AUTHORIZATION must be true or false"),
    ({"AGNO_JWT_TENANT_CLAIM": "tenant"}, "AGNO_JWT_TENANT_CLAIM needs JWT mode"),
    ({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "none"}, "AGNO_JWT_ALGORITHM must be one of"),
    ({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "RS257"}, "AGNO_JWT_ALGORITHM must be one of"),
    ({"JWT_VERIFICATION_KEY": "not a pem key"}, "JWT_VERIFICATION_KEY is not a usable RS256 key"),
    ({"JWT_VERIFICATION_KEY": "x", "JWT_VERIFICATION_KEY_FILE": "/k"}, "not both"),
    ({"JWT_VERIFICATION_KEY_FILE": "/nonexistent/key.pem"}, "JWT_VERIFICATION_KEY_FILE '/nonexistent/key.pem' cannot"),
    ({"JWT_JWKS_FILE": "/nonexistent/jwks.json"}, "JWT_JWKS_FILE '/nonexistent/jwks.json' cannot be read"),
    ({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_JWT_VERIFY_AUDIENCE": "true"},
     "AGNO_JWT_VERIFY_AUDIENCE=true needs AGNO_JWT_AUDIENCE"),
    ({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_JWT_LEEWAY": "ten"},
     "AGNO_JWT_LEEWAY must be an integer number of seconds, got 'ten'"),
    ({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_JWT_LEEWAY": "-1"},
     "AGNO_JWT_LEEWAY must be between 0 and 86400, got -1"),
    ({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_USER_ISOLATION": "sometimes"},
     "AGNO_USER_ISOLATION must be true or false"),
])
def test_mistakes_stop_the_start(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings(**env)


@pytest.mark.parametrize(("algorithm", "needed"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_hs_secrets_shorter_than_the_hash_are_refused_unless_allowed(algorithm: str, needed: int) -> None:
    """RFC 7518 §3.2; AgentOS accepts any length, so AGNO_JWT_ALLOW_WEAK_KEY=true takes them as it does."""
    short = "s" * (needed - 1)
    with pytest.raises(ConfigError, match=re.escape(f"JWT_VERIFICATION_KEY is {needed - 1} bytes, too short for "
                                                    f"{algorithm}: RFC 7518 asks for at least {needed} bytes")):
        settings(JWT_VERIFICATION_KEY=short, AGNO_JWT_ALGORITHM=algorithm)
    with pytest.raises(ConfigError, match="AGNO_JWT_ALLOW_WEAK_KEY=true"):
        settings(JWT_VERIFICATION_KEY="k", AGNO_JWT_ALGORITHM=algorithm)
    assert settings(JWT_VERIFICATION_KEY=short, AGNO_JWT_ALGORITHM=algorithm, AGNO_JWT_ALLOW_WEAK_KEY="true").jwt
    assert settings(JWT_VERIFICATION_KEY="é" * (needed // 2), AGNO_JWT_ALGORITHM=algorithm).jwt  # bytes, not chars
    with pytest.raises(ConfigError, match="AGNO_JWT_ALLOW_WEAK_KEY must be true or false"):
        settings(JWT_VERIFICATION_KEY=short, AGNO_JWT_ALGORITHM=algorithm, AGNO_JWT_ALLOW_WEAK_KEY="perhaps")


def test_short_oct_keys_in_a_jwks_file_are_refused(tmp_path) -> None:
    import base64

    path = tmp_path / "jwks.json"
    secret = base64.urlsafe_b64encode(b"sixteen byte key").rstrip(b"=").decode()
    path.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "hmac-1", "k": secret, "alg": "HS256"}]}))
    with pytest.raises(ConfigError, match="JWT_JWKS_FILE key 'hmac-1' is 16 bytes, too short for HS256"):
        settings(JWT_JWKS_FILE=str(path), AGNO_JWT_ALGORITHM="HS256")
    assert settings(JWT_JWKS_FILE=str(path), AGNO_JWT_ALGORITHM="HS256", AGNO_JWT_ALLOW_WEAK_KEY="true").jwt


def test_a_public_key_is_refused_as_an_hs_secret() -> None:
    """Key confusion closed at start-up: PyJWT would refuse it per request."""
    with pytest.raises(ConfigError, match="JWT_VERIFICATION_KEY is not a usable HS256 key"):
        settings(JWT_VERIFICATION_KEY=RsaKey().public_pem, AGNO_JWT_ALGORITHM="HS256")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid JSON"),
    ('{"keys": []}', 'must be a JSON object with a non-empty "keys" list'),
    ('[1, 2]', 'must be a JSON object with a non-empty "keys" list'),
    ('{"keys": [5]}', "keys\\[0\\] is not an object"),
    ('{"keys": [{"kty": "RSA", "n": "x"}]}', "keys\\[0\\] is not a usable key"),
])
def test_jwks_files_that_do_not_parse_stop_the_start(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        settings(JWT_JWKS_FILE=str(path))


def test_tenant_claim_needs_a_tenant_on_every_database() -> None:
    mapping = {"a": {"dsn": DSN, "tenant": "acme"}, "b": {"dsn": DSN, "schema": "ai2"}}
    env = {"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_JWT_TENANT_CLAIM": "tenant"}
    with pytest.raises(ConfigError, match=r"every AGNO_SESSION_DSN_MAP entry needs a \"tenant\" \(missing for \['b'\]"):
        load_settings({"AGNO_SESSION_DSN_MAP": json.dumps(mapping), **env})
    mapping["b"]["tenant"] = "globex"
    loaded = load_settings({"AGNO_SESSION_DSN_MAP": json.dumps(mapping), **env})
    assert [(d.db_id, d.tenant) for d in loaded.databases] == [("a", "acme"), ("b", "globex")]
    with pytest.raises(ConfigError, match=r"\.tenant must be a non-empty string"):
        load_settings({"AGNO_SESSION_DSN_MAP": json.dumps({"a": {"dsn": DSN, "tenant": 5}})})


def test_jwt_settings_raise_the_one_config_error_themselves() -> None:
    """The JWT loader is not wrapped by core's: whoever calls it gets the ConfigError `serve` reports (exit 2)."""
    with pytest.raises(ConfigError, match="AGNO_JWT_LEEWAY must be between 0 and 86400, got 86401"):
        load_jwt_settings({"JWT_VERIFICATION_KEY": "x" * 40, "AGNO_JWT_ALGORITHM": "HS256", "AGNO_JWT_LEEWAY": "86401"})
    assert load_jwt_settings({"JWT_VERIFICATION_KEY": hs_secret(), "AGNO_JWT_ALGORITHM": "HS256",
                              "AGNO_JWT_LEEWAY": " "}).leeway == 10  # blank is unset, as for every integer setting


@pytest.mark.parametrize(("header", "credential", "scheme_only"), [
    (None, "", ""), ("", "", ""), ("Bearer abc", "abc", "abc"), ("bEaReR   abc  ", "abc", "abc"),
    ("abc", "abc", ""), ("  abc ", "abc", ""), ("Bearer", "Bearer", ""), ("Bearer ", "", ""),
    ("Basic abc", "Basic abc", ""), ("Bearer\tabc", "Bearer\tabc", ""),
])
def test_one_reading_of_the_authorization_header(header: str | None, credential: str, scheme_only: str) -> None:
    """JWTs and OS_SECURITY_KEY take a bare credential too (as AgentOS); AGNO_METRICS_TOKEN only after `Bearer `."""
    assert bearer_token(header) == credential
    assert bearer_token(header, bare=False) == scheme_only


@pytest.mark.parametrize(("header", "key", "accepted", "metrics"), [
    ("Bearer k3y", "k3y", True, True), ("BEARER k3y", "k3y", True, True), ("k3y", "k3y", True, False),
    ("Bearer k3yx", "k3y", False, False), ("Token k3y", "k3y", False, False), ("Bearer", "k3y", False, False),
    ("Bearer", "Bearer", False, False),  # a lone scheme is no credential, even for a key spelled like it
    ("", "k3y", False, False), (None, "k3y", False, False),
])
def test_static_keys_compare_the_one_credential(header: str | None, key: str, accepted: bool, metrics: bool) -> None:
    assert (key_accepted(header, key), bearer_matches(header, key)) == (accepted, metrics)
