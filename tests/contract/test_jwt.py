"""JWT mode against the real AgentOS in five configurations: the jwt corpus on each (reads), the jwt write corpus
on the setups with and without isolation (answers and rows), and a `WWW-Authenticate: Bearer` on every B 401."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract import replay
from tests.contract.harness import check_read, check_write, corpus

READ_SETUPS = ("jwt-hs256", "jwt-hs256-isolated", "jwt-admin-aud", "jwt-jwks", "jwt-rs256")
WRITE_SETUPS = ("jwt-hs256", "jwt-hs256-isolated", "jwt-rs256")
READS = [(setup, i, req.label()) for setup in READ_SETUPS for i, req in enumerate(corpus("jwt"))]
WRITES = [(setup, i, req.label()) for setup in WRITE_SETUPS for i, req in enumerate(corpus("jwt-writes"))]


def bearer_challenge(b: replay.Response) -> None:
    """Deviation jwt-www-authenticate: AgentOS sends no challenge; this service names the scheme on every 401."""
    if b.status == 401:
        assert b.headers.get("www-authenticate") == "Bearer", b.headers
    else:
        assert "www-authenticate" not in b.headers


@pytest.fixture(scope="module", autouse=True)
def _seeded(cluster) -> Iterator[None]:
    cluster.restore()
    yield
    cluster.restore()


@pytest.mark.parametrize(("setup", "index", "label"), READS, ids=[f"{s}:{label}" for s, _, label in READS])
def test_jwt_read(cluster, devs, setup: str, index: int, label: str) -> None:
    pair = cluster.pairs[setup]
    check_read(pair, corpus("jwt", pair.variables)[index], devs, bearer_challenge)


@pytest.mark.parametrize(("setup", "index", "label"), WRITES, ids=[f"{s}:{label}" for s, _, label in WRITES])
def test_jwt_write(cluster, devs, setup: str, index: int, label: str) -> None:
    pair = cluster.pairs[setup]
    check_write(pair, corpus("jwt-writes", pair.variables)[index], devs, bearer_challenge)
