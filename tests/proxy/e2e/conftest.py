"""The e2e stage needs the reference AgentOS and mitmdump from their own virtualenvs: `make proxy-test` does that."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract import deviations
from tests.proxy.e2e.stage import SingleCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[SingleCluster]:
    """PostgreSQL with the contract dataset, the real AgentOS and agno-session on it, for the whole run."""
    missing = [v for v in ("AGNO_REFERENCE_PYTHON", "AGNO_MITMDUMP") if not os.environ.get(v)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run `make proxy-test`, which installs the reference AgentOS "
                    "and mitmproxy into their own virtualenvs")
    started = SingleCluster(os.environ["AGNO_REFERENCE_PYTHON"]).start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="agno-proxy-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def devs() -> list[deviations.Deviation]:
    return deviations.load()
