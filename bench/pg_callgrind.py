"""The benchmark's PostgreSQL run under valgrind's callgrind, so a benchmark can count the CPU instructions one
backend spent serving a client instead of timing it: every backend (a fork of the postmaster) writes its own
count when its connection closes. Counts do not move with the machine's load.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from . import postgres as bench_postgres

# The benchmark server's settings, lighter on shared memory (valgrind tracks every page it touches) and without
# autovacuum, whose work would land in the measured backends' pages at random moments.
SETTINGS = (*(s for s in bench_postgres.SETTINGS if not s.startswith("shared_buffers")),
            "shared_buffers=256MB", "autovacuum=off")
START_WITHIN = 300.0  # seconds: a postmaster under valgrind starts in a few seconds, a loaded machine takes longer
POLL_SECONDS = 0.5


def data_directory(dsn: str) -> Path:
    """The data directory of the (local) server behind `dsn`."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('data_directory')")
            return Path(cur.fetchone()[0])
    finally:
        conn.close()


@contextmanager
def counted_server(data: Path, dsn: str) -> Iterator[Path]:
    """PostgreSQL on the stopped cluster `data`, its processes under callgrind writing to the directory yielded
    (cg.<pid>, server.log; removed on leaving); `dsn` reaches it once up. Stops it on leaving."""
    bin_dir = bench_postgres.distribution_bin()
    if bin_dir is None:
        raise SystemExit("counting PostgreSQL's instructions needs the distribution's server (/usr/lib/postgresql)")
    owner = "postgres" if os.geteuid() == 0 else None
    out = Path(tempfile.mkdtemp(prefix="agno-bench-callgrind-"))  # its own, so the server's user can enter it
    if owner:
        os.chown(out, *_ids(owner))
    options = [arg for s in SETTINGS for arg in ("-c", s.replace("''", ""))]  # no shell to take the quotes off
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", str(bin_dir / "postgres"),
            "-D", str(data), "-k", str(data), *options]
    server = subprocess.Popen(bench_postgres._as_owner(argv, owner), stdout=subprocess.DEVNULL,
                              stderr=open(out / "server.log", "ab"))  # noqa: SIM115 - the server's own log
    try:
        _wait_until_up(dsn, server)
        prewarm(dsn)
        yield out
    finally:
        server.terminate()  # SIGTERM to the postmaster: smart shutdown once clients are gone
        server.wait(timeout=START_WITHIN)
        shutil.rmtree(out, ignore_errors=True)


def _ids(owner: str) -> tuple[int, int]:
    """uid and gid of `owner`."""
    import pwd

    entry = pwd.getpwnam(owner)
    return entry.pw_uid, entry.pw_gid


def _wait_until_up(dsn: str, server: subprocess.Popen) -> None:
    """Return once `dsn` accepts a connection; raise if the server exits or never comes up."""
    deadline = time.monotonic() + START_WITHIN
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"PostgreSQL under valgrind exited ({server.returncode}); see its server.log")
        try:
            psycopg2.connect(dsn).close()
            return
        except psycopg2.OperationalError:
            time.sleep(POLL_SECONDS)
    raise SystemExit(f"PostgreSQL under valgrind did not come up within {START_WITHIN:.0f} s")


def prewarm(dsn: str) -> None:
    """Every table, TOAST table and index of the database in shared buffers (pg_prewarm, shipped with the server),
    so the first counted backend does not pay for reading pages the later ones find in memory."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute("SELECT pg_prewarm(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'i', 't')")
    finally:
        conn.close()


def backend_instructions(out: Path, pids: list[int]) -> int:
    """The instructions the backends `pids` executed, from their callgrind files (waiting for each backend to
    exit and write its file: its client has closed the connection)."""
    total = 0
    for pid in pids:
        path = out / f"cg.{pid}"
        deadline = time.monotonic() + START_WITHIN
        while True:
            text = path.read_text() if path.exists() else ""
            found = re.search(r"^summary: (\d+)", text, re.MULTILINE)
            if found and re.search(r"^totals: ", text, re.MULTILINE):  # the last line: the file is complete
                total += int(found.group(1))
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"backend {pid} wrote no callgrind totals in {out}")
            time.sleep(POLL_SECONDS)
    return total
