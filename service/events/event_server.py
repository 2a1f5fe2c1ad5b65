"""The event process's aiohttp application: the stream route, its probes and its metrics, with the hub of pollers
started and stopped with the application."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from service.api.metrics import scrape_refusal
from service.core.config import Settings
from service.core.logs import LOGGER
from service.events import stream
from service.events.event_settings import EventSettings
from service.events.hub import Hub
from service.events.stream_metrics import EventMetrics
from service.storage.registry import Registry

log = logging.getLogger(LOGGER)
SHUTDOWN_SECONDS = 5.0  # open streams are ended at SIGTERM; their clients reconnect to another replica and resume


def create_app(settings: Settings, events: EventSettings) -> web.Application:
    """The application; its hub (one poller per configured database) starts when it starts serving."""
    app = web.Application()
    metrics = EventMetrics()
    pool = 1 + events.catch_ups  # the poller and the catch-up reads that may run beside it
    registry = Registry(settings.databases, pool, settings.request_timeout)
    hub = Hub(registry, metrics, events.poll_interval, events.page, events.catch_ups)
    app["context"] = stream.Context(settings, events, hub, metrics)
    app.router.add_get(stream.PATH, stream.events, allow_head=False)
    app.router.add_get("/healthz", healthz, allow_head=False)
    app.router.add_get("/readyz", readyz, allow_head=False)
    app.router.add_get("/metrics", metrics_page, allow_head=False)
    app.on_startup.append(_start)
    app.on_shutdown.append(_end_streams)
    app.on_cleanup.append(_stop)
    return app


async def _start(app: web.Application) -> None:
    app["context"].hub.start()


async def _end_streams(app: web.Application) -> None:
    """SIGTERM: end every open stream now (a stream never finishes by itself)."""
    for task in list(app["context"].streams):
        task.cancel()


async def _stop(app: web.Application) -> None:
    await app["context"].hub.stop()


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when every database's poller read its change log on its last try (a restarting PostgreSQL makes it
    unready until a read succeeds; the open streams stay open meanwhile)."""
    if request.app["context"].hub.ready():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus's text format, refused as the service's /metrics refuses (AGNO_METRICS_TOKEN, tenants)."""
    ctx: stream.Context = request.app["context"]
    refused = scrape_refusal(ctx.settings, request.headers.get("Authorization"))
    if refused:
        return stream.error(401, refused, {"WWW-Authenticate": "Bearer"})
    body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, ctx.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def serve(settings: Settings, events: EventSettings) -> int:
    """Serve until SIGTERM or SIGINT."""
    app = create_app(settings, events)
    web.run_app(app, host=events.host, port=events.port, shutdown_timeout=SHUTDOWN_SECONDS, access_log=None,
                print=lambda _line: log.info(f"event service listening on {events.host}:{events.port}"),
                handle_signals=True)
    return 0
