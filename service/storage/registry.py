"""Every configured database opened once per app, each with its read replica's pool when it has one."""

from __future__ import annotations

from collections.abc import Iterator

from service.core.config import DatabaseConfig
from service.storage.pool import Database, PoolObserver
from service.storage.replica import Replica


def open_database(config: DatabaseConfig, pool_max: int, timeout: float, observer: PoolObserver | None = None
                  ) -> Database:
    """`config`'s database, with `replica` set to its read replica's pool (same size) when it has a replica_dsn."""
    db = Database(config, pool_max, timeout, observer)
    if config.replica_dsn:
        db.replica = Replica(db, pool_max)
    return db


class Registry:
    """Every configured database by db_id, in configuration order."""

    def __init__(self, configs: tuple[DatabaseConfig, ...], pool_max: int, timeout: float,
                 observer: PoolObserver | None = None) -> None:
        self.by_id = {c.db_id: open_database(c, pool_max, timeout, observer) for c in configs}

    def __iter__(self) -> Iterator[Database]:
        return iter(self.by_id.values())

    def get(self, db_id: str) -> Database | None:
        """The database configured under `db_id`, if any."""
        return self.by_id.get(db_id)

    def close(self) -> None:
        """Close all pools."""
        for db in self:
            db.close()
