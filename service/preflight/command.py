"""`agno-session check --agentos-url`: read AgentOS's /config, compare, print one line per point, exit 0/1/2."""

from __future__ import annotations

import os
import sys

from service.core.config import Settings
from service.preflight.against_service import compare_service
from service.preflight.against_settings import compare_settings
from service.preflight.agentos import Unreachable, read_agentos
from service.preflight.findings import Preflight


def run_preflight(settings: Settings, agentos_url: str, key: str | None, token: str | None,
                  sessions_url: str | None) -> int:
    """Compare AgentOS with this service's settings (or, given `sessions_url`, with the running service)."""
    key = key or os.environ.get("AGENTOS_KEY") or None
    token = token or os.environ.get("AGENTOS_TOKEN") or None
    sent = token or key or settings.security_key
    try:
        view = read_agentos(agentos_url, sent)
        if view.credential_refused and (token or key):
            option = "--agentos-token" if token else "--agentos-key"
            raise Unreachable(f"AgentOS at {view.url} refused {option}: {view.credential_refused}")
        if sessions_url:
            result = compare_service(sessions_url, view, sent)
        else:
            result = compare_settings(settings, view, key, token)
    except Unreachable as exc:
        print(f"agno-session check: {exc}", file=sys.stderr)
        return 2
    _print(view.url, view.auth, result)
    return result.exit_code


def _print(url: str, auth: str, result: Preflight) -> None:
    print(f"AgentOS at {url}: authentication {auth}")
    for line in result.lines():
        print(line)
