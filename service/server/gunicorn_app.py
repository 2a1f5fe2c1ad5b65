"""`agno-session serve`: the app under gunicorn's threaded workers, configured from the settings."""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

from service import metrics_dir
from service.config import Settings
from service.logs import LOGGER

log = logging.getLogger(LOGGER)


def gunicorn_options(settings: Settings, bind: str) -> dict[str, object]:
    """gunicorn's settings for one server: threads, time limits and request-head bounds from `settings`."""
    return {
        "bind": bind,
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "timeout": int(settings.request_timeout) + 30,
        "graceful_timeout": 30,
        "preload_app": True,
        "accesslog": None,
        # AgentOS (uvicorn) takes a request head of up to ~128 KiB; gunicorn's defaults (8190 bytes per
        # line) would answer 414/431 to ids, filters and headers AgentOS serves. 0: no request-line limit.
        "limit_request_line": 0,
        "limit_request_field_size": 128 * 1024,
    }


def run(settings: Settings, bind: str, on_exit: list | None = None, ready_message: str | None = None) -> None:
    """Serve `create_app(settings)` on `bind` until gunicorn's arbiter stops; `on_exit` callables run last.

    `ready_message` replaces the "listening" line when something else (the front) is what clients reach."""
    ready = ready_message or f"session service listening on :{settings.port}"
    from service.app import create_app

    _, remove_metrics_dir = metrics_dir.prepare()  # before create_app imports prometheus_client
    exits = [remove_metrics_dir, *(on_exit or [])]

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings, bind).items():
                self.cfg.set(key, value)
            self.cfg.set("when_ready", lambda _server: log.info(ready))
            self.cfg.set("child_exit", metrics_dir.worker_exited)
            self.cfg.set("on_exit", lambda _server: [stop() for stop in exits])

        def load(self) -> object:
            return create_app(settings)

    Server().run()
