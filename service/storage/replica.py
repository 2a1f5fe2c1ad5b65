"""A database's read replica: single-statement reads go to its own pool, and to the primary while it is down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from service.core.logs import LOGGER
from service.storage.errors import DatabaseUnavailable
from service.storage.pool import REPLICA, Database

REPLICA_RETRY_SECONDS = 5.0  # a replica that could not be reached is tried again by one read after this long
log = logging.getLogger(LOGGER)


class Replica(Database):
    """A database's read replica (a hot standby): its own pool, same size, for single-statement reads only.

    A read the replica cannot take (unreachable, shutting down: `DatabaseUnavailable`) is answered from the primary,
    and so is every read for the next REPLICA_RETRY_SECONDS; then one read tries the replica again while the others
    keep going to the primary. Going down and coming back are logged once each, per process; each read the primary
    serves instead is counted (`replica_fallback`). Any other error is the read's own and is not retried.
    """

    pool = REPLICA

    def __init__(self, primary: Database, pool_max: int) -> None:
        super().__init__(replace(primary.config, dsn=primary.config.replica_dsn, replica_dsn=None), pool_max,
                         primary.timeout, primary.observer)
        self.primary = primary
        self._state_lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0

    def read_all(self, name: str, params: dict[str, Any], **fragments: sql.Composable) -> list[dict]:
        """Every row of one read-only query, from the replica while it answers, else from the primary."""
        if self._worth_trying():
            try:
                rows = super().read_all(name, params, **fragments)
            except DatabaseUnavailable as exc:
                self._went_down(exc)
            else:
                self._answered()
                return rows
        if self.observer is not None:
            self.observer.replica_fallback(self.config.db_id)
        return self.primary.read_all(name, params, **fragments)

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """Never: writes, and the reads made inside a write's transaction, belong to the primary."""
        raise RuntimeError(f"database {self.config.db_id!r}: a transaction was asked of the read replica")
        yield  # a generator, for contextmanager

    def _worth_trying(self) -> bool:
        """Up, or down long enough that this read may probe it (pushing the next probe REPLICA_RETRY_SECONDS on)."""
        with self._state_lock:
            if not self._down:
                return True
            now = time.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + REPLICA_RETRY_SECONDS
            return True

    def _went_down(self, exc: DatabaseUnavailable) -> None:
        """Send reads to the primary for a while; say so once when the replica was up."""
        with self._state_lock:
            was_up, self._down = not self._down, True
            self._retry_at = time.monotonic() + REPLICA_RETRY_SECONDS
        if was_up:
            log.warning("read replica unavailable: reads go to the primary",
                        extra={"fields": {"db_id": self.config.db_id, "error": exc.message,
                                          "retry_seconds": REPLICA_RETRY_SECONDS}})

    def _answered(self) -> None:
        """The replica took a read: if it was down, it is back (said once)."""
        if not self._down:
            return
        with self._state_lock:
            was_down, self._down = self._down, False
        if was_down:
            log.info("read replica answering again", extra={"fields": {"db_id": self.config.db_id}})
