"""The Idempotency-Key store (extension `idempotency-keys`): a side table of first answers per caller and key, named
from the sessions table like the other side tables, created by `agno-session migrate`.

A request with a key claims it in a transaction that its own writes join (Database.joined_transaction) and records
its answer there before the commit: the key is kept if and only if the write committed, and a crash leaves nothing
behind (the transaction rolls back, the key is free). An identical request arriving meanwhile waits on the key's
primary key until that transaction ends, then replays the answer; past the wait bound it learns the key is in flight.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from service.storage.binding import jsonb
from service.storage.counts import derived_name
from service.storage.pool import Database
from service.storage.schema import table_exists

SWEEP = 8  # expired keys each claim deletes: more than the one it adds, so the table shrinks back after a burst
_CLAIMS = 3  # tries: a conflicting key can vanish before it is read (expired and swept by another request)


class KeyInFlight(Exception):
    """Another request holds the key and did not finish within the wait bound."""


class KeysMissing(Exception):
    """The key table does not exist in this database (`agno-session migrate` creates it)."""


@dataclass(frozen=True)
class Answer:
    """A kept answer: the request it answered (fingerprint) and what was sent back."""

    fingerprint: str
    status: int
    headers: list[list[str]]
    body: bytes


@dataclass(frozen=True)
class KeyNames:
    """What the key table of one sessions table is called."""

    table: str
    expiry: str
    regclass: str
    fragments: dict[str, sql.Composable]


@cache
def _names(schema: str, session_table: str) -> KeyNames:
    table, expiry = derived_name(session_table, "idempotency"), derived_name(session_table, "idempotency_expiry")
    fragments = {"keys": sql.Identifier(schema, table), "expiry": sql.Identifier(expiry)}
    return KeyNames(table, expiry, f'"{schema}"."{table}"', fragments)


def names(db: Database) -> KeyNames:
    """What the key table of `db`'s sessions table is called (migrate creates it under this name)."""
    return _names(db.config.schema, db.config.session_table)


def query(db: Database, name: str) -> sql.Composed:
    """`sql/<name>.sql` composed with the key table's names."""
    return db.query(name, **names(db).fragments)


def installed(db: Database) -> bool:
    """Whether the key table exists (`agno-session check`)."""
    return table_exists(db, names(db).table)


class Claim:
    """A claimed key (`replay` None: this request answers and `record`s) or a kept answer to replay."""

    def __init__(self, db: Database, cur: psycopg2.extensions.cursor, key: dict, replay: Answer | None) -> None:
        self._db, self._cur, self._key, self.replay = db, cur, key, replay

    def record(self, answer: Answer, undo_writes: bool = False) -> None:
        """Keep `answer` for the key, in the claiming transaction; with `undo_writes` first roll back whatever was
        written since the claim (a request that answered an error must leave nothing else behind)."""
        if undo_writes:
            self._cur.execute("ROLLBACK TO SAVEPOINT idempotency_claimed")
        self._cur.execute(query(self._db, "idempotency_record"),
                          {**self._key, "status": answer.status, "headers": jsonb(answer.headers),
                           "body": answer.body})


@contextmanager
def claimed(db: Database, caller: str, key: str, fingerprint: str, ttl: int, wait: float) -> Iterator[Claim]:
    """The key claimed for this request in a transaction its writes join, or the answer kept for it: waits up to
    `wait` seconds for a request holding it (KeyInFlight after that). Leaving the block commits; an exception rolls
    everything back, the claim included."""
    ids = {"caller": caller, "key": key}
    with db.joined_transaction() as cur:
        replay = _claim(db, cur, ids, fingerprint, ttl, wait)
        if replay is None:
            cur.execute("SET LOCAL lock_timeout = DEFAULT; SAVEPOINT idempotency_claimed")
        yield Claim(db, cur, ids, replay)


def _claim(db: Database, cur: psycopg2.extensions.cursor, ids: dict, fingerprint: str, ttl: int, wait: float
           ) -> Answer | None:
    """Insert the key (None) or read the answer a committed request kept for it."""
    params = {**ids, "fingerprint": fingerprint, "ttl": ttl, "lock_ms": max(1, int(wait * 1000)), "sweep": SWEEP}
    for _ in range(_CLAIMS):
        try:
            cur.execute(query(db, "idempotency_claim"), params)
        except psycopg2.errors.LockNotAvailable:
            raise KeyInFlight() from None
        except psycopg2.errors.UndefinedTable:
            raise KeysMissing() from None
        if cur.fetchone() is not None:
            return None
        cur.execute(query(db, "idempotency_stored"), ids)
        row = cur.fetchone()
        if row is not None:
            if row["status"] is None:  # never committed so: a key written by hand, not by a request
                raise KeyInFlight()
            return Answer(row["fingerprint"], row["status"], row["headers"], bytes(row["body"]))
    raise KeyInFlight()
