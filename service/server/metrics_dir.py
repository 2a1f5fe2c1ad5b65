"""prometheus-client's multiprocess mode under gunicorn: each server start gets an empty directory of worker files."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, MutableMapping
from pathlib import Path

from service.core.env import PROMETHEUS_MULTIPROC_DIR


def prepare(env: MutableMapping[str, str] | None = None) -> tuple[Path, Callable[[], None]]:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory before prometheus_client is imported (it reads the
    variable once, at import); return it and the clean-up to run when the server exits.

    A directory the operator named is emptied of the last run's files (stale counters would be summed in);
    otherwise a temporary one is made and removed at exit.
    """
    env = os.environ if env is None else env
    named = env.get(PROMETHEUS_MULTIPROC_DIR)
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return path, lambda: None
    path = Path(tempfile.mkdtemp(prefix="agno-session-metrics-"))
    env[PROMETHEUS_MULTIPROC_DIR] = str(path)
    return path, lambda: shutil.rmtree(path, ignore_errors=True)


def worker_exited(_server: object, worker: object) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges (pool in use, waiting) stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
