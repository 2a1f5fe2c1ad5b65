"""Write corpus: each request on A and on B from the same seeded state; answers and both tables compared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import check_write, corpus

CASES = [(i, req.label()) for i, req in enumerate(corpus("writes"))]


@pytest.fixture(scope="module", autouse=True)
def _restore_after(cluster) -> Iterator[None]:
    yield
    cluster.restore()


@pytest.mark.parametrize(("index", "label"), CASES, ids=[label for _, label in CASES])
def test_write(cluster, devs, index: int, label: str) -> None:
    pair = cluster.pairs["single"]
    check_write(pair, corpus("writes", pair.variables)[index], devs)
