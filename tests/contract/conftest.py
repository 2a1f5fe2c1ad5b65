"""The contract test needs the reference AgentOS installed beside the project: `make contract-test` does that."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract import deviations
from tests.contract.agno_client import AgnoWriter, reference_python
from tests.contract.harness import DECLARED_HITS, Cluster, Pair


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """PostgreSQL, the seeded dataset, and both servers in every configuration, for the whole run."""
    started = Cluster(reference_python()).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def pair(cluster: Cluster) -> Pair:
    """The single-database pair of servers (the tests where agno writes between requests)."""
    return cluster.pairs["single"]


@pytest.fixture(scope="module")
def agno(cluster: Cluster, pair: Pair, request: pytest.FixtureRequest) -> Iterator[AgnoWriter]:
    """agno 3.1.10's own writes on the pair's database, one writer process per test module (its log named after it)."""
    log = cluster.workdir / f"agno-writer-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    writer = AgnoWriter(cluster.reference_python, pair.databases[0], log)
    yield writer
    writer.close()


@pytest.fixture(scope="session")
def devs() -> list[deviations.Deviation]:
    """The declared deviations."""
    return deviations.load()


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest hook
    """Say which declared deviations this run actually met, so a stale declaration shows."""
    if DECLARED_HITS:
        terminalreporter.write_line("declared deviations met: " + ", ".join(
            f"{name} x{count}" for name, count in sorted(DECLARED_HITS.items())))
