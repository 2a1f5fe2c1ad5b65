"""What can go wrong in storage, in the storage layer's own words (the HTTP layer picks the status), and the one
translation of driver errors into them."""

from __future__ import annotations

import psycopg2
import psycopg2.errors

_UNSTORABLE = (
    psycopg2.errors.ProgramLimitExceeded,
    psycopg2.errors.NumericValueOutOfRange,
    psycopg2.errors.CharacterNotInRepertoire,
    psycopg2.errors.UntranslatableCharacter,
)


class StorageError(Exception):
    """A database operation failed for a reason callers can act on; `db_id` names the database."""

    def __init__(self, db_id: str, message: str) -> None:
        super().__init__(message)
        self.db_id = db_id
        self.message = message


class DatabaseUnavailable(StorageError):
    """The database could not be reached or dropped the connection."""


class StorageTimeout(StorageError):
    """No connection became free, or a statement ran past the time budget."""


class ValueNotStorable(StorageError):
    """PostgreSQL refused a value (an id too large for its index, a number out of range); nothing was written."""


class TablesMissing(StorageError):
    """The session tables do not exist in this database yet."""


HOLD_SQLSTATE = "AS409"  # raised by the opt-in hold trigger (sql/lifecycle_hold_trigger.sql)


class HeldInDatabase(StorageError):
    """The hold trigger refused a delete of a session under legal hold; nothing was deleted."""


class RunConflict(Exception):
    """A preloaded run's id is already taken (or repeated): the whole create is rolled back."""

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__(run_ids)
        self.run_ids = run_ids


class WorkflowSessionConflict(Exception):
    """The session id is taken by another session type or another user: a workflow run may not write it."""


class MemorySessionConflict(Exception):
    """The user's memory session id is held by a session the memory did not create; it is never overwritten."""


class DeadlinePassed(psycopg2.errors.QueryCanceled):
    """The request's deadline passed before this statement was sent: it is not sent (a 504, like a server-side
    cancel)."""


def translate(exc: psycopg2.Error, db_id: str) -> StorageError:
    """The storage error a driver error means; the caller raises it `from` the driver's."""
    if isinstance(exc, DeadlinePassed):
        return StorageTimeout(db_id, "request deadline passed")
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return StorageTimeout(db_id, "statement timed out")
    if isinstance(exc, _UNSTORABLE):
        return ValueNotStorable(db_id, exc.diag.message_primary or type(exc).__name__)
    if exc.pgcode == HOLD_SQLSTATE:
        return HeldInDatabase(db_id, exc.diag.message_primary or "session under legal hold")
    if isinstance(exc, psycopg2.errors.UndefinedTable):
        return TablesMissing(db_id, exc.diag.message_primary or "undefined table")
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return DatabaseUnavailable(db_id, str(exc).strip())
    return StorageError(db_id, f"{type(exc).__name__}: {str(exc).strip()}")
