"""The search index's drain: runs that writers queued (their triggers only queue them: a write pays one small row,
not the text's to_tsvector) are indexed here a moment later, in small batches on the primary. Searches read queued
runs themselves until then (sql/search_messages.sql), so a drain only moves work off the writers' transactions: it
never changes an answer. Each gunicorn worker runs one drainer thread (`start`); SKIP LOCKED keeps them apart, and
`migrate --search` drains what is left when it completes the index."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import psycopg2.errors

from service.storage import search_index
from service.storage.errors import StorageError
from service.storage.pool import Database

BATCH = 100  # runs per drain transaction: a writer rewriting one of them waits at most this batch's indexing
EVERY = 1.0  # seconds between drains of an idle queue

_log = logging.getLogger("agno_session.search")


def drain(db: Database, batch: int = BATCH) -> int:
    """Index up to `batch` queued runs of `db` in one transaction; how many were taken (0: none waiting, or the
    batch gave way to a writer holding its rows and is retried later)."""
    try:
        with db.primary.transaction() as cur:
            cur.execute(search_index.query(db, "search_drain_pick"), {"limit": batch})
            taken = [(row["session_id"], row["run_id"]) for row in cur.fetchall()]
            if taken:
                sessions, runs = (list(column) for column in zip(*taken, strict=True))
                cur.execute(search_index.query(db, "search_drain_write"), {"sessions": sessions, "runs": runs})
    except StorageError as exc:
        gave_way = isinstance(exc.__cause__, psycopg2.errors.LockNotAvailable)
        _log.log(logging.DEBUG if gave_way else logging.WARNING, "search drain of %r %s: %s", db.config.db_id,
                 "gave way to a writer" if gave_way else "failed", exc.message)
        return 0
    return len(taken)


def drain_all(db: Database, progress: Callable[[int], None] | None = None) -> int:
    """Drain until the queue is empty (or only holds runs writers are still writing); returns the runs indexed."""
    total = 0
    while count := drain(db):
        total += count
        if progress is not None:
            progress(total)
    return total


def _loop(databases: Iterable[Database], stop: threading.Event) -> None:
    """Drain every database whose index is usable; a full batch drains again at once, an idle queue waits EVERY."""
    while not stop.is_set():
        busy = False
        for db in databases:
            try:
                if search_index.usable(db) is not None:
                    busy = drain(db) == BATCH or busy
            except Exception:  # the thread outlives any one failure; the next pass tries again
                _log.exception("search drain of %r failed", db.config.db_id)
        if not busy:
            stop.wait(EVERY)


def start(databases: Iterable[Database]) -> threading.Event:
    """The worker's drainer thread (a daemon: it dies with the worker); set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(list(databases), stop), name="agno-search-drain", daemon=True).start()
    return stop
