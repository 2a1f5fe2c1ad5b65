"""`agno-session serve`: the app under gunicorn's threaded workers, configured from the settings."""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

from service.core.config import Settings
from service.core.logs import LOGGER
from service.server import metrics_dir
from service.storage import changes_pruner, erasure_worker, search_drain

log = logging.getLogger(LOGGER)
BUFFER_BUDGET = 64 * 1024 * 1024  # request bodies one worker holds in its event loop at once (at least one body)


def gunicorn_options(settings: Settings, bind: str) -> dict[str, object]:
    """gunicorn's settings for one server: threads, time limits and request-head bounds from `settings`."""
    return {
        "bind": bind,
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "service.server.worker.ParkingWorker",
        "worker_connections": settings.max_connections,
        "keepalive": int(settings.keepalive_timeout),
        "timeout": int(settings.request_timeout) + 30,
        "graceful_timeout": 30,
        "preload_app": True,
        "accesslog": None,
        "logger_class": "service.server.gunicorn_logs.JsonLogger",
        # The worker's event loop bounds the whole head (max_head_bytes, 431/414) before gunicorn parses it, so
        # gunicorn's own per-line and per-field limits (8190 bytes by default, below what AgentOS serves) are
        # opened up to that bound: 0 is "no request-line limit of its own".
        "limit_request_line": 0,
        "limit_request_field_size": settings.max_head_bytes,
        "limit_request_fields": 32768,
        # gunicorn 27's runtime control socket lives at one path per user, shared by every server it starts.
        "control_socket_disable": True,
    }


def worker_limits(settings: Settings) -> dict[str, float]:
    """What the parking worker reads from the application: time limits, sizes, and its body-buffer budget."""
    return {
        "header_timeout": settings.header_timeout,
        "body_timeout": settings.body_timeout,
        "max_head_bytes": settings.max_head_bytes,
        "max_body_bytes": settings.max_body_bytes,
        "buffer_budget": max(BUFFER_BUDGET, settings.max_body_bytes),
    }


def _start_background(worker: object) -> None:
    """Each worker's background threads (after the fork: threads do not survive it): the search drain, indexing the
    runs writers queued, the erasure thread, running the erasure jobs requests queued, and the change log's pruner."""
    config = worker.wsgi.config  # type: ignore[attr-defined]
    search_drain.start(config["REGISTRY"])
    erasure_worker.start(config["REGISTRY"], config["METRICS"])
    changes_pruner.start(config["REGISTRY"], config["SETTINGS"].changes_retention)


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
            self.cfg.set("post_worker_init", _start_background)
            self.cfg.set("on_exit", lambda _server: [stop() for stop in exits])

        agno_limits = worker_limits(settings)

        def load(self) -> object:
            return create_app(settings)

    Server().run()
