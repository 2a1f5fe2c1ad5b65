"""Read corpora replayed against the real AgentOS and agno-session: same status, content type and bytes."""

from __future__ import annotations

import pytest

from tests.contract.harness import check_read, corpus, entity_tags

SETUPS = {"single": "requests", "multi": "multidb", "auth": "auth"}
CASES = [(setup, i, req.label()) for setup, name in SETUPS.items() for i, req in enumerate(corpus(name))]


@pytest.fixture(scope="module", autouse=True)
def _seeded(cluster) -> None:
    """Reads must never see another module's writes."""
    cluster.restore()


@pytest.mark.parametrize(("setup", "index", "label"), CASES, ids=[f"{s}:{label}" for s, _, label in CASES])
def test_read(cluster, devs, setup: str, index: int, label: str) -> None:
    pair = cluster.pairs[setup]
    req = corpus(SETUPS[setup], pair.variables)[index]
    check_read(pair, req, devs, entity_tags(req))
