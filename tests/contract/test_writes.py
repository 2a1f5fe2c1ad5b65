"""Write corpus: each request on A and on B from the same seeded state; answers and both tables compared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import check_write, corpus, entity_tags

CASES = [(i, req.label()) for i, req in enumerate(corpus("writes"))]


@pytest.fixture(scope="module", autouse=True)
def _restore_after(cluster) -> Iterator[None]:
    yield
    cluster.restore()


@pytest.mark.parametrize(("index", "label"), CASES, ids=[label for _, label in CASES])
def test_write(cluster, devs, index: int, label: str) -> None:
    pair = cluster.pairs["single"]
    req = corpus("writes", pair.variables)[index]
    check_write(pair, req, devs, entity_tags(req))
