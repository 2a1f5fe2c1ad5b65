"""The change log's retention without a cron: one thread in each gunicorn worker deletes changes older than
AGNO_CHANGES_RETENTION, a batch per transaction, oldest first, then sleeps; the state row's lock (SKIP LOCKED) lets
one worker prune at a time, the others find nothing to do. A database without the change log is looked at again
every INSTALLED_EVERY seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from service.storage import changes
from service.storage.changes import ChangesMissing
from service.storage.errors import StorageError, TablesMissing
from service.storage.pool import Database

EVERY = 60.0  # seconds between pruning passes once nothing is left to prune
INSTALLED_EVERY = 300.0  # seconds a database found without the change log is left alone

_log = logging.getLogger("agno_session.changes")


def prune_all(db: Database, retention_seconds: int) -> int:
    """Prune `db` until no change older than the retention is left (or another pruner holds it); how many went."""
    total = 0
    while count := changes.prune(db, retention_seconds, int(time.time() * 1000)):
        total += count
    return total


def _loop(databases: list[Database], retention_seconds: int, stop: threading.Event) -> None:
    absent: dict[str, float] = {}
    while not stop.is_set():
        for db in databases:
            if time.monotonic() - absent.get(db.config.db_id, float("-inf")) < INSTALLED_EVERY:
                continue
            try:
                pruned = prune_all(db, retention_seconds)
                if pruned:
                    _log.info("change log pruned", extra={"fields": {"db_id": db.config.db_id, "changes": pruned}})
            except (TablesMissing, ChangesMissing):
                absent[db.config.db_id] = time.monotonic()
            except StorageError as exc:
                _log.warning("pruning the change log of %r failed: %s", db.config.db_id, exc.message)
            except Exception:  # the thread outlives any one failure; the next pass tries again
                _log.exception("pruning the change log of %r failed", db.config.db_id)
        stop.wait(EVERY)


def start(databases: Iterable[Database], retention_seconds: int) -> threading.Event:
    """The worker's pruner thread (a daemon: it dies with the worker); set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(list(databases), retention_seconds, stop), name="agno-changes-prune",
                     daemon=True).start()
    return stop
