"""`agno-session check --agentos-url` against the real AgentOS: every db_id and auth difference is named with the
variable to set, a match exits 0, an unreachable AgentOS is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.contract.harness import REPO, Cluster, Database
from tests.contract.tables import Tables
from tests.support.jwt_tokens import RsaKey
from tests.support.servers import free_port

KEY = "preflight-key"


class PreflightCluster(Cluster):
    """PostgreSQL and AgentOS open, with a key, with RS256 JWTs, with two databases; one agno-session with the
    usual libpq URL (the db_id trap) and one given AgentOS's exact URL."""

    def _start(self) -> None:
        socket_dir = self._start_postgres()
        self.main = Database(f"postgresql+psycopg://postgres@/contract?host={socket_dir}", Tables())
        self.other = Database(f"postgresql+psycopg://postgres@/contract_multi?host={socket_dir}",
                              Tables(schema="ai2", sessions="custom_sessions", runs="custom_sessions_runs"))
        self.rsa = RsaKey()
        jwt_env = {"REF_JWT": json.dumps({"algorithm": "RS256", "user_isolation": True}),
                   "JWT_VERIFICATION_KEY": self.rsa.public_pem}
        self.agentos = {"open": self._reference("open", [self.main], {}),
                        "key": self._reference("key", [self.main], {"OS_SECURITY_KEY": KEY}),
                        "jwt": self._reference("jwt", [self.main], jwt_env),
                        "multi": self._reference("multi", [self.main, self.other], {})}
        for server in self.agentos.values():
            server.wait_healthy()
        self.trap = self._spawn("agno-session-trap", [sys.executable, "-m", "service.cli", "serve"],
                                {"AGNO_PG_DSN": self.main.dsn, **SERVE})
        self.right = self._spawn("agno-session-right", [sys.executable, "-m", "service.cli", "serve"],
                                 {"AGNO_PG_DSN": self.main.url, **SERVE})
        self.trap.wait_healthy()
        self.right.wait_healthy()

    def token(self, **claims: object) -> str:
        now = int(time.time())
        return self.rsa.sign({"sub": "admin-1", "scopes": ["agent_os:admin"], "iat": now, "exp": now + 3600,
                              **claims})


SERVE = {"AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_SERVICE_PORT": "{port}", "AGNO_WORKERS": "1", "AGNO_THREADS": "2",
         "AGNO_LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def world() -> Iterator[PreflightCluster]:
    started = PreflightCluster(os.environ["AGNO_REFERENCE_PYTHON"]).start()
    yield started
    started.stop()


def check(agentos: str, *options: str, **env: str) -> subprocess.CompletedProcess:
    """`agno-session check --agentos-url agentos …` with only `env` configured."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "JWT_", "AGENTOS_"))}
    return subprocess.run([sys.executable, "-m", "service.cli", "check", "--agentos-url", agentos, *options],
                          cwd=REPO, env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_agentos_url_form_matches_and_says_where_the_id_comes_from(world):
    done = check(world.agentos["open"].url, AGNO_PG_DSN=world.main.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"same: db_id {world.main.db_id} (derived from {world.main.url}#ai)" in done.stdout
    assert "preflight: agno-session matches AgentOS" in done.stdout


def test_the_libpq_url_derives_another_id_and_the_fix_is_named(world):
    done = check(world.agentos["open"].url, AGNO_PG_DSN=world.main.dsn)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"set AGNO_DB_ID={world.main.db_id}" in done.stdout
    assert f"AgentOS's URL is {world.main.url}" in done.stdout


def test_a_pinned_id_matches(world):
    done = check(world.agentos["open"].url, AGNO_PG_DSN=world.main.dsn, AGNO_DB_ID=world.main.db_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pinned by AGNO_DB_ID" in done.stdout


def test_masked_password_in_the_origin(world):
    url = world.main.url.replace("postgres@", "postgres:s3cret@")
    done = check(world.agentos["open"].url, AGNO_PG_DSN=url)
    assert "s3cret" not in done.stdout + done.stderr
    assert "postgres:***@" in done.stdout


@pytest.mark.parametrize(("env", "options", "expected"), [
    ({}, (), "set OS_SECURITY_KEY=<AgentOS's OS_SECURITY_KEY>"),
    ({"OS_SECURITY_KEY": "another-key"}, (), "AgentOS refuses this service's OS_SECURITY_KEY"),
    ({"OS_SECURITY_KEY": "another-key"}, ("--agentos-key", KEY), "differs from the key AgentOS accepted"),
])
def test_key_differences(world, env, options, expected):
    done = check(world.agentos["key"].url, *options, AGNO_PG_DSN=world.main.url, **env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert expected in done.stdout


def test_the_same_key_matches(world):
    done = check(world.agentos["key"].url, AGNO_PG_DSN=world.main.url, OS_SECURITY_KEY=KEY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "auth: OS_SECURITY_KEY required on both" in done.stdout


def test_an_open_service_in_front_of_a_jwt_agentos_is_named(world):
    done = check(world.agentos["jwt"].url, "--agentos-token", world.token(), AGNO_PG_DSN=world.main.url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "AgentOS authenticates with JWTs, this service with nothing" in done.stdout
    assert "JWT_VERIFICATION_KEY" in done.stdout


@pytest.mark.parametrize(("env", "claims", "expected"), [
    ({"AGNO_JWT_ALGORITHM": "RS512"}, {}, "set AGNO_JWT_ALGORITHM=RS256"),
    ({}, {"exp": None}, "set AGNO_JWT_REQUIRE_EXP=false"),
    ({"AGNO_JWT_ISSUER": "https://idp.example"}, {}, "AGNO_JWT_ISSUER=None"),
])
def test_jwt_settings_that_refuse_agentos_token_are_named(world, env, claims, expected):
    token = world.token(**claims)
    if claims.get("exp", 0) is None:
        token = world.rsa.sign({"sub": "admin-1", "scopes": ["agent_os:admin"]})
    done = check(world.agentos["jwt"].url, "--agentos-token", token, AGNO_PG_DSN=world.main.url,
                 JWT_VERIFICATION_KEY=world.rsa.public_pem, **env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert expected in done.stdout


def test_matching_jwt_settings_pass_with_the_isolation_note(world):
    done = check(world.agentos["jwt"].url, "--agentos-token", world.token(), AGNO_PG_DSN=world.main.url,
                 JWT_VERIFICATION_KEY=world.rsa.public_pem)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the token AgentOS accepted is accepted here" in done.stdout
    assert "AGNO_USER_ISOLATION=false" in done.stdout  # a note: AgentOS's isolation cannot be seen


def test_without_a_token_the_jwt_agentos_cannot_be_compared(world):
    done = check(world.agentos["jwt"].url, AGNO_PG_DSN=world.main.url, JWT_VERIFICATION_KEY=world.rsa.public_pem)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pass --agentos-key KEY or --agentos-token TOKEN" in done.stdout


def test_a_refused_token_is_a_one_line_error(world):
    done = check(world.agentos["jwt"].url, "--agentos-token", "not-a-token", AGNO_PG_DSN=world.main.url)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "refused --agentos-token" in done.stderr


def test_every_missing_database_and_table_is_named(world):
    mapping = {world.main.db_id: world.main.url,
               world.other.db_id: {"dsn": world.other.url, "schema": "ai2", "session_table": "agno_sessions"}}
    done = check(world.agentos["multi"].url, AGNO_SESSION_DSN_MAP=json.dumps({world.main.db_id: world.main.url}))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f'set an AGNO_SESSION_DSN_MAP key "{world.other.db_id}"' in done.stdout
    done = check(world.agentos["multi"].url, AGNO_SESSION_DSN_MAP=json.dumps(mapping))
    assert "session_table\"=custom_sessions" in done.stdout
    assert f"same: db_id {world.main.db_id}" in done.stdout


def test_unreachable_agentos_is_one_line_and_exit_2(world):
    done = check(f"http://127.0.0.1:{free_port()}", AGNO_PG_DSN=world.main.url)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agno-session check: cannot reach AgentOS at 127.0.0.1:")


def test_against_the_running_service_the_trap_is_named_and_the_right_url_passes(world):
    done = check(world.agentos["open"].url, "--sessions-url", world.trap.url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"set AGNO_DB_ID={world.main.db_id} on agno-session" in done.stdout
    done = check(world.agentos["open"].url, "--sessions-url", world.right.url)
    assert done.returncode == 0, done.stdout + done.stderr


def test_serve_logs_each_database_id_and_its_origin(world):
    lines = [json.loads(line) for line in world.trap.log.read_text().splitlines() if line.startswith("{")]
    database = [line for line in lines if line.get("msg") == "database"]
    assert database and database[0]["db_id"] != world.main.db_id
    assert database[0]["db_id_from"] == f"derived from {world.main.dsn}#ai"
