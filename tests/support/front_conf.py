"""The front's nginx.conf rendered from one fixed set of settings, for the tests that read it and run nginx on it."""

from __future__ import annotations

from pathlib import Path

from service.core.config import load_settings
from service.server import nginx_conf

DSN = "postgresql://u:p@127.0.0.1:5432/db"
ENV = {"AGNO_PG_DSN": DSN, "AGNO_FRONT": "nginx", "AGNO_HEADER_TIMEOUT": "7", "AGNO_BODY_TIMEOUT": "11",
       "AGNO_KEEPALIVE_TIMEOUT": "3", "AGNO_MAX_BODY_BYTES": "5000", "AGNO_MAX_HEAD_BYTES": "16384",
       "AGNO_REQUEST_TIMEOUT": "20", "AGNO_FRONT_CONN_PER_IP": "40", "AGNO_MAX_CONNECTIONS": "500",
       "AGNO_WORKERS": "3", "AGNO_THREADS": "5", "AGNO_SERVICE_PORT": "9123", "AGNO_SERVICE_HOST": "0.0.0.0"}


def rendered(tmp_path: Path, **env: str) -> str:
    """nginx.conf for ENV (overridden by `env`) with its runtime directory and gunicorn's socket under tmp_path."""
    return nginx_conf.render(load_settings({**ENV, **env}), tmp_path, str(tmp_path / "gunicorn.sock"))
