"""One poller per database reads the whole change log and offers each page to every subscriber of that database, so
a thousand open streams cost one query per poll, not a thousand; a subscriber resuming from an older cursor catches
up with reads of its own (bounded in number) and then joins the poller exactly where its reads ended."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from service.core.logs import LOGGER
from service.events import feed
from service.events.stream_metrics import EventMetrics
from service.storage.errors import StorageError
from service.storage.pool import Database
from service.storage.registry import Registry

log = logging.getLogger(LOGGER)
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 5.0  # seconds between failed polls: doubled each time, with jitter, up to the max


@dataclass(eq=False)
class Subscriber:
    """One open stream: what it accepts, how its frames are rendered (`render`; streams with the same `group`, the
    same filters, share each frame), the position it joined the poller at (what is at or before it was sent by its
    catch-up reads), and the frames waiting to be written; `overflowed` ends a stream too slow to keep up (its
    client resumes from the last id it got)."""

    accepts: Callable[[dict], bool]
    render: Callable[[dict], bytes]
    group: str
    capacity: int
    after: Any = None
    frames: deque = field(default_factory=deque)  # (position, frame) in log order
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def offer(self, event: dict, rendered: dict[str, bytes]) -> None:
        """Queue `event`'s frame if this stream wants it and has not had it; when full, the stream ends after what
        it holds. `rendered` holds this event's frames by group, made once per group."""
        if self.overflowed or not feed.position(event) > self.after or not self.accepts(event):
            return
        if len(self.frames) >= self.capacity:
            self.overflowed = True
            self.ready.set()
            return
        frame = rendered.get(self.group)
        if frame is None:
            frame = rendered[self.group] = self.render(event)
        self.frames.append((feed.position(event), frame))
        self.ready.set()


class Poller:
    """The one reader of a database's change log in this process: from the head at start, page after page, every
    `interval` seconds when caught up; a failed read (PostgreSQL restarting) is retried with backoff from the same
    position, so nothing is skipped and the open streams only wait."""

    def __init__(self, db: Database, executor: ThreadPoolExecutor, metrics: EventMetrics, interval: float,
                 page: int) -> None:
        self.db, self.executor, self.metrics = db, executor, metrics
        self.interval, self.page = interval, page
        self.position: Any = None  # the watermark of the last page read: every change before it was offered
        self.started = asyncio.Event()  # set once the head is known
        self.healthy = False
        self.last_ok = 0.0
        self.subscribers: set[Subscriber] = set()
        self.task: asyncio.Task | None = None

    async def call(self, fn: Callable, *args: Any) -> Any:
        """A blocking storage call on the hub's threads (psycopg2 is synchronous; the event loop never waits on it)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def run(self) -> None:
        """Poll until cancelled."""
        db_id, delay = self.db.config.db_id, BACKOFF_FIRST
        while True:
            try:
                if self.position is None:
                    self.position = await self.call(feed.head, self.db)
                    self.started.set()
                started = time.monotonic()
                page = await self.call(feed.poll, self.db, self.position, self.page)
            except (StorageError, feed.FeedUnavailable) as exc:
                if self.healthy or delay == BACKOFF_FIRST:
                    log.warning("change log poll failed; retrying", extra={"fields": {"db_id": db_id,
                                                                                      "error": str(exc)}})
                self.healthy = False
                self.metrics.poll_failures.labels(db_id).inc()
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if not self.healthy:
                log.info("change log poll ok", extra={"fields": {"db_id": db_id}})
            self.healthy, delay, self.last_ok = True, BACKOFF_FIRST, time.monotonic()
            self.metrics.poll_seconds.labels(db_id).observe(self.last_ok - started)
            self.fan_out(page.events)
            self.position = page.next
            if not page.has_more:
                await asyncio.sleep(self.interval)

    def fan_out(self, events: list[dict]) -> None:
        """Offer each event to every subscriber, in order (no await: a subscriber joins between pages, never inside)."""
        now_ms = time.time() * 1000
        lag = self.metrics.poll_lag.labels(self.db.config.db_id)
        for event in events:
            lag.observe(max(0.0, now_ms - feed.at_ms(event)) / 1000)
            rendered: dict[str, bytes] = {}
            for subscriber in self.subscribers:
                subscriber.offer(event, rendered)

    def join(self, subscriber: Subscriber, after: Any) -> bool:
        """Make `subscriber` live from `after` if the catch-up reached this poller's position (True); else False:
        read on. Synchronous, so no page is fanned out between the check and the join."""
        if self.position is None or after < self.position:
            return False
        subscriber.after = after
        self.subscribers.add(subscriber)
        return True

    def leave(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)


class Hub:
    """Every database's poller, the threads their blocking reads run on, and the bound on concurrent catch-ups."""

    def __init__(self, registry: Registry, metrics: EventMetrics, interval: float, page: int, catch_ups: int) -> None:
        self.registry = registry
        self.executor = ThreadPoolExecutor(max_workers=len(registry.by_id) + catch_ups, thread_name_prefix="events-db")
        self.pollers = {db.config.db_id: Poller(db, self.executor, metrics, interval, page) for db in registry}
        self.catch_up_slots = asyncio.Semaphore(catch_ups)

    def start(self) -> None:
        for poller in self.pollers.values():
            poller.task = asyncio.get_running_loop().create_task(poller.run(), name=f"poller-{poller.db.config.db_id}")

    async def stop(self) -> None:
        for poller in self.pollers.values():
            if poller.task is not None:
                poller.task.cancel()
        await asyncio.gather(*(p.task for p in self.pollers.values() if p.task is not None), return_exceptions=True)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.registry.close()

    def ready(self) -> bool:
        """Every poller's last read succeeded."""
        return all(p.healthy for p in self.pollers.values())
