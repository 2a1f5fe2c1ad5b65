"""The webhook deliverer of one database: while it holds the database's deliverer lock, it reads each
subscription's changes from its saved position into the queue, then sends what is due, each session's events one
after the other; standing by otherwise. Time comes from `clock`, so tests move it instead of sleeping."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from prometheus_client import Counter

from service.commands import webhook_feed
from service.commands.webhook_metrics import WebhookMetrics
from service.commands.webhook_sender import Outcome, Sender
from service.core.logs import LOGGER
from service.core.webhook_subscriptions import Subscription
from service.rules.webhook_signature import retry_delay
from service.storage import webhooks
from service.storage.advisory_lock import AdvisoryLock
from service.storage.errors import StorageError
from service.storage.pool import Database

RETRY_WINDOW = 24 * 3600.0  # seconds from an event's first failed attempt to its dead letter
READ_BATCH = 500  # changes read per subscription per round
SEND_BATCH = 200  # due events sent per round
REPORT_EVERY = 30.0  # seconds between progress lines
log = logging.getLogger(LOGGER)


class Deliverer:
    """Delivers the subscriptions that cover one database."""

    def __init__(self, db: Database, subscriptions: tuple[Subscription, ...], sender: Sender,
                 metrics: WebhookMetrics, *, clock: Callable[[], float] = time.time, threads: int = 8,
                 window: float = RETRY_WINDOW, out: TextIO | None = None) -> None:
        self.db, self.sender, self.metrics, self.clock, self.window, self.out = db, sender, metrics, clock, window, out
        self.db_id = db.config.db_id
        self.subscriptions = {s.name: s for s in subscriptions if s.db_id in (None, self.db_id)}
        self.lock = AdvisoryLock(db.config, "deliver")
        self.threads = threads
        self.totals = {"delivered": 0, "retried": 0, "dead-lettered": 0}
        self._reported = time.monotonic()

    def run(self, stop: threading.Event, poll: float = 1.0, lock_retry: float = 5.0) -> None:
        """Deliver until `stop` is set: the round in progress ends (its requests answered or timed out and
        recorded), then the lock is released for a standby."""
        standing_by = False
        try:
            while not stop.is_set():
                if not self.lock.still_held():
                    self.metrics.active.labels(self.db_id).set(0)
                    if not self.lock.try_acquire():
                        if not standing_by:
                            self._say("standing by: another deliverer holds this database's lock")
                            standing_by = True
                        stop.wait(lock_retry)
                        continue
                    standing_by = False
                    self.metrics.active.labels(self.db_id).set(1)
                    self._say(f"delivering for {len(self.subscriptions)} subscriptions (this process holds the lock)")
                try:
                    worked = self.run_once()
                except StorageError as exc:
                    log.warning("webhook delivery round failed", extra={"fields": {"db_id": self.db_id,
                                                                                   "error": exc.message}})
                    worked = 0
                self._report()
                if not worked:
                    stop.wait(poll)
        finally:
            self.lock.release()
            self.metrics.active.labels(self.db_id).set(0)
            self._say(f"stopped: {self._totals()}")

    def run_once(self) -> int:
        """One round: read every subscription's new changes, then send what is due; how many events it handled."""
        names = list(self.subscriptions)
        read = self._read_feed(names)
        sent = self._send_due(names)
        self._measure(names)
        return read + sent

    def _read_feed(self, names: list[str]) -> int:
        saved = webhooks.positions(self.db, names)
        read = 0
        for name in names:
            batch = webhook_feed.read(self.db, self.subscriptions[name], saved.get(name), READ_BATCH)
            if batch.position != saved.get(name) or batch.events:
                webhooks.enqueue(self.db, name, batch.events, batch.position, self.clock())
            read += len(batch.events) or batch.more
        return read

    def _send_due(self, names: list[str]) -> int:
        attempts = webhooks.due(self.db, names, self.clock(), SEND_BATCH)
        if not attempts:
            return 0
        with ThreadPoolExecutor(max_workers=min(self.threads, len(attempts))) as pool:
            outcomes = list(pool.map(self._send, attempts))
        for attempt, outcome in zip(attempts, outcomes, strict=True):
            self._record(attempt, outcome)
        return len(attempts)

    def _send(self, attempt: webhooks.Attempt) -> Outcome:
        subscription = self.subscriptions[attempt.subscription]
        return self.sender.post(subscription.url, subscription.key, attempt.message_id, int(self.clock()),
                                attempt.body.encode("utf-8"))

    def _record(self, attempt: webhooks.Attempt, outcome: Outcome) -> None:
        """Out of the queue when accepted; otherwise again later, or a dead letter once the window is over."""
        now, name = self.clock(), attempt.subscription
        if outcome.ok:
            webhooks.delivered(self.db, attempt)
            self._count("delivered", self.metrics.delivered, name)
            return
        started = attempt.first_attempt_at if attempt.first_attempt_at is not None else now
        if now - started >= self.window:
            webhooks.dead_letter(self.db, attempt, now, outcome.error)
            self._count("dead-lettered", self.metrics.dead_lettered, name)
            log.warning("webhook dead-lettered", extra={"fields": {
                "db_id": self.db_id, "subscription": name, "message_id": attempt.message_id,
                "attempts": attempt.attempts + 1, "error": outcome.error}})
            return
        webhooks.retry(self.db, attempt, now, now + retry_delay(attempt.attempts + 1), outcome.error)
        self._count("retried", self.metrics.retried, name)

    def _count(self, what: str, counter: Counter, name: str) -> None:
        self.totals[what] += 1
        counter.labels(self.db_id, name).inc()

    def _measure(self, names: list[str]) -> None:
        backlog = webhooks.backlog(self.db, names, self.clock())
        for name in names:
            queued, lag = backlog.get(name, (0, 0.0))
            self.metrics.queued.labels(self.db_id, name).set(queued)
            self.metrics.lag.labels(self.db_id, name).set(max(lag, 0.0))

    def _report(self) -> None:
        """A progress line every REPORT_EVERY seconds while delivering."""
        if time.monotonic() - self._reported >= REPORT_EVERY:
            self._reported = time.monotonic()
            self._say(self._totals())

    def _totals(self) -> str:
        return ", ".join(f"{count} {what}" for what, count in self.totals.items())

    def _say(self, line: str) -> None:
        if self.out is not None:
            print(f"{self.db_id}: {line}", file=self.out, flush=True)
