"""Where erasure jobs run: one thread in each gunicorn worker claims the oldest job nobody holds (SKIP LOCKED, then a
lease its batches renew) and runs it to its end. A worker that dies mid-job leaves a lease that runs out within
erasure.LEASE seconds; then any worker (the restarted one too) claims the job again and goes on from the rows that
are left, its counts exactly what the committed batches deleted."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from service.storage import erasure
from service.storage.errors import TablesMissing
from service.storage.pool import Database

EVERY = 1.0  # seconds between looks for a job while there is none
INSTALLED_EVERY = 30.0  # seconds a database found without the lifecycle's tables is left alone

_log = logging.getLogger("agno_session.erasure")


class ErasureObserver(Protocol):
    """What the metrics hear of erasure jobs."""

    def erasure_rows(self, db_id: str, table: str, rows: int) -> None: ...

    def erasure_ended(self, db_id: str, state: str) -> None: ...


def worker_name() -> str:
    """Who holds a claimed job: host and process, so an operator can tell which worker (or CLI) ran it."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_next(db: Database, worker: str, observer: ErasureObserver | None = None) -> dict | None:
    """Claim and run the oldest job of `db` nobody holds; its final row, or None when there was none."""
    job = erasure.claim(db, worker)
    if job is None:
        return None
    db_id = db.config.db_id
    _log.info("erasure started", extra={"fields": {"db_id": db_id, "receipt_id": job["receipt_id"]}})

    def progress(step: str, rows: int, _counts: dict[str, int]) -> None:
        if observer is not None:
            observer.erasure_rows(db_id, step, rows)
    try:
        done = erasure.run(db, job, worker, progress)
    except erasure.LeaseLost:
        _log.warning("erasure taken over by another worker", extra={"fields": {"db_id": db_id,
                                                                               "receipt_id": job["receipt_id"]}})
        return None
    if observer is not None:
        observer.erasure_ended(db_id, done["state"])
    _log.info("erasure ended", extra={"fields": {"db_id": db_id, "receipt_id": done["receipt_id"],
                                                 "state": done["state"], "counts": done["counts"]}})
    return done


def _loop(databases: list[Database], stop: threading.Event, observer: ErasureObserver | None) -> None:
    """Run jobs while there are any; look again every EVERY seconds when there are none."""
    worker = worker_name()
    absent: dict[str, float] = {}  # db_id → when it was found without the lifecycle's tables
    while not stop.is_set():
        busy = False
        for db in databases:
            if time.monotonic() - absent.get(db.config.db_id, float("-inf")) < INSTALLED_EVERY:
                continue
            try:
                busy = run_next(db, worker, observer) is not None or busy
            except TablesMissing:  # no `migrate --lifecycle` here (yet): a claim costs nothing until it is run
                absent[db.config.db_id] = time.monotonic()
            except Exception:  # the thread outlives any one failure; the job's lease runs out and it is resumed
                _log.exception("erasure of %r failed", db.config.db_id)
        if not busy:
            stop.wait(EVERY)


def start(databases: Iterable[Database], observer: ErasureObserver | None = None) -> threading.Event:
    """The worker's erasure thread (a daemon: it dies with the worker); set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(list(databases), stop, observer), name="agno-erasure",
                     daemon=True).start()
    return stop
