"""One holder per database for a background role (the webhook deliverer): a PostgreSQL session advisory lock on a
connection of its own. The server releases it when that session ends, so a standby takes over when the holder's
process or connection dies. It needs a session that stays one backend: a direct connection or a pooler in session
mode (PgBouncer's transaction mode hands each transaction another backend, and the lock would be meaningless)."""

from __future__ import annotations

import hashlib

import psycopg2
import psycopg2.extensions

from service.core.config import DatabaseConfig


def lock_key(config: DatabaseConfig, role: str) -> int:
    """The lock's 64-bit key: the role and the sessions table it serves (two deployments over one database, on
    different tables, do not exclude each other)."""
    digest = hashlib.sha256(f"agno-session {role} {config.schema}.{config.session_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """The lock of one role in one database, tried without waiting and checked before each round of work."""

    def __init__(self, config: DatabaseConfig, role: str) -> None:
        self.config, self.key = config, lock_key(config, role)
        self.role = role
        self._conn: psycopg2.extensions.connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False when another session does or the database cannot be reached."""
        if self._conn is not None:
            return True
        try:
            conn = psycopg2.connect(self.config.dsn, application_name=f"agno-session {self.role}", connect_timeout=10,
                                    keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
        except psycopg2.Error:
            return False
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                taken = bool(cur.fetchone()[0])
        except psycopg2.Error:
            taken = False
        if taken:
            self._conn = conn
        else:
            conn.close()
        return taken

    def still_held(self) -> bool:
        """Whether the lock's session is alive (a round trip on it); a dead one is dropped: the server has released,
        or will release, the lock, and another deliverer may already hold it."""
        if self._conn is None:
            return False
        try:
            with self._conn.cursor() as cur:
                cur.execute("SELECT 1")
            return True
        except psycopg2.Error:
            self.release()
            return False

    def release(self) -> None:
        """Let go: closing the session releases the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass
