"""GET /sessions/-/events: authenticate as the service does, resolve the database (a tenant sees only its own),
catch up from Last-Event-ID (or `after=`) with reads of the stream's own, then join the database's poller and
write what it offers, with a keepalive comment every 15 seconds."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from service.api.databases import resolve_db
from service.auth.caller import UNRESTRICTED, Caller, MissingIdentity
from service.auth.gate import AuthDenied, jwt_caller, key_refusal
from service.core.config import Settings
from service.core.logs import LOGGER
from service.events import feed, frames
from service.events.event_settings import EventSettings
from service.events.hub import Hub, Poller, Subscriber
from service.events.stream_metrics import EventMetrics
from service.rules.errors import ApiError
from service.rules.validation.errors import RequestInvalid
from service.storage.errors import StorageError

log = logging.getLogger(LOGGER)
PATH = "/sessions/-/events"
TOO_MANY = "Too many open event streams on this server; retry later"
LAST_EVENT_ID = "Last-Event-ID"
HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
           "X-Accel-Buffering": "no"}  # nginx in front passes each frame on at once


@dataclass
class Context:
    """What every stream shares: the settings, the hub of pollers, the metrics, and the open streams' tasks."""

    settings: Settings
    events: EventSettings
    hub: Hub
    metrics: EventMetrics
    streams: set[asyncio.Task] = field(default_factory=set)


def caller_of(request: web.Request, settings: Settings) -> Caller:
    """The caller as the main service's middleware decides it (OS_SECURITY_KEY, or JWT with scopes, isolation and
    tenants); AuthDenied with AgentOS's status and detail otherwise."""
    header = request.headers.get("Authorization")
    if settings.jwt is not None:
        return jwt_caller(header, request.method, request.path, settings.jwt)
    if settings.security_key:
        refusal = key_refusal(header, settings.security_key)
        if refusal is not None:
            raise AuthDenied(401, refusal)
    return UNRESTRICTED


def error(status: int, detail: Any, headers: dict[str, str] | None = None) -> web.Response:
    """AgentOS's `{"detail": ...}` envelope."""
    return web.json_response({"detail": detail}, status=status, headers=headers,
                             dumps=lambda v: feed.dumps(v).decode())


async def events(request: web.Request) -> web.StreamResponse:
    """The stream, or an error answered before it starts (401/403, 400/404 for the database, 422 for filters, 400 for
    a bad cursor, 410 for one older than the log, 503 while the change log cannot be read)."""
    ctx: Context = request.app["context"]
    if len(ctx.streams) >= ctx.events.max_streams:
        return error(503, TOO_MANY)
    try:
        caller = caller_of(request, ctx.settings)
        asked = feed.parse_query(request.query_string, request.headers.get(LAST_EVENT_ID))
        db = resolve_db(ctx.settings, ctx.hub.registry, asked.db_id, None, caller)
        asked.checked()  # a NUL in a filter: 422 once the database is known, as on the long-poll
        filters = feed.filters(asked, caller)
        poller = ctx.hub.pollers[db.config.db_id]
        bound = feed.binding(db, filters)
        after = feed.unseal(asked.cursor, bound, ctx.settings.cursor_key) if asked.cursor else None
        first = await _first_page(ctx, poller, after, filters)
    except AuthDenied as denied:
        return error(denied.status, denied.detail, {"WWW-Authenticate": "Bearer"} if denied.status == 401 else None)
    except MissingIdentity as exc:
        return error(403, str(exc))
    except RequestInvalid as exc:
        return error(422, exc.errors)
    except ApiError as exc:
        return error(exc.status, exc.detail, exc.headers)
    except (StorageError, feed.FeedUnavailable) as exc:
        log.warning("event stream refused", extra={"fields": {"error": str(exc)}})
        return error(503, feed.UNAVAILABLE)
    response = web.StreamResponse(headers=HEADERS)
    await response.prepare(request)
    await response.write(frames.OPENING)
    db_id, key = db.config.db_id, ctx.settings.cursor_key
    subscriber = Subscriber(lambda e: feed.accepts(filters, e), lambda e: feed.frame(e, db_id, bound, key),
                            feed.dumps(bound).decode(), ctx.events.queue)
    ctx.metrics.subscribers.labels(db_id).inc()
    task = asyncio.current_task()
    ctx.streams.add(task)  # type: ignore[arg-type]
    try:
        await _serve(ctx, response, poller, subscriber, first, filters, bound)
    except (ConnectionResetError, StorageError, feed.FeedUnavailable, asyncio.CancelledError):
        pass  # the client left, or a catch-up read failed: it resumes from the last id it has
    finally:
        poller.leave(subscriber)
        ctx.streams.discard(task)  # type: ignore[arg-type]
        ctx.metrics.subscribers.labels(db_id).dec()
    return response


async def _first_page(ctx: Context, poller: Poller, after: Any, filters: Any) -> Any:
    """The first catch-up read (its 410 or 503 is the answer), or None for a stream that starts at the head."""
    try:
        await asyncio.wait_for(poller.started.wait(), ctx.events.start_wait)
    except asyncio.TimeoutError:
        raise feed.FeedUnavailable(poller.db.config.db_id) from None
    return None if after is None else await _catch_up_read(ctx, poller, after, filters)


async def _catch_up_read(ctx: Context, poller: Poller, after: Any, filters: Any) -> Any:
    async with ctx.hub.catch_up_slots:
        ctx.metrics.catch_ups.labels(poller.db.config.db_id).inc()
        return await poller.call(feed.read, poller.db, after, ctx.events.page, filters)


async def _serve(ctx: Context, response: web.StreamResponse, poller: Poller, subscriber: Subscriber, page: Any,
                 filters: Any, bound: Any) -> None:
    """Catch up page by page until the poller is reached, join it, then write what it offers until the client
    leaves or falls too far behind."""
    key, db_id = ctx.settings.cursor_key, poller.db.config.db_id
    sent = ctx.metrics.sent.labels(db_id)
    after = poller.position if page is None else None
    while page is not None:
        if page.events:
            await response.write(b"".join(feed.frame(event, db_id, bound, key) for event in page.events))
            sent.inc(len(page.events))
        after = page.next
        if not page.has_more and poller.join(subscriber, after):
            break
        page = await _catch_up_read(ctx, poller, after, filters)
    else:
        poller.join(subscriber, after)
    await response.write(frames.watermark_frame(feed.seal(after, bound, key)))
    marked = after
    while True:
        if not subscriber.frames:
            if subscriber.overflowed:
                ctx.metrics.overflows.labels(db_id).inc()
                return
            subscriber.ready.clear()
            try:
                await asyncio.wait_for(subscriber.ready.wait(), ctx.events.keepalive)
            except asyncio.TimeoutError:
                if poller.position is not None and poller.position > marked:
                    marked = poller.position  # nothing waits for this stream: its filters skipped the rest
                    await response.write(frames.watermark_frame(feed.seal(marked, bound, key)))
                await response.write(frames.KEEPALIVE)
            continue
        batch = list(subscriber.frames)  # everything waiting, written at once
        subscriber.frames.clear()
        marked = batch[-1][0]
        await response.write(b"".join(frame for _, frame in batch))
        sent.inc(len(batch))
