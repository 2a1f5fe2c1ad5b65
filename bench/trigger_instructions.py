"""What the change log's triggers (`migrate --changes`) add to AgentOS's own writes, counted in PostgreSQL's CPU
instructions instead of timed: the triggers run inside PostgreSQL only, and a count does not move with the shared
machine's load (bench/write_route_cost.py's timed p95 ratios resolve only to about ±12 % here).

One cluster of the distribution's server (bench/postgres.py), loaded with agno's tables (created by agno), the change
log (`migrate --changes`) and sessions with runs as write_route_cost seeds them, then restarted under callgrind
(bench/pg_callgrind.py). Each write AgentOS makes is made by bench/agentos_write_driver.py in the agno venv: the
real AgentOS app's session write routes (create, rename, PATCH, delete one, bulk delete of 5) through Starlette's
TestClient, and agno's `upsert_session` and a run write (`upsert_run` then `upsert_session`). Per write and setting
(the six triggers enabled / disabled, in the order without, with, with, without), two driver processes on fresh
connections: warm-up only, and warm-up plus --writes; the difference of their backends' instructions over --writes is
one write's count. Then, on the same cluster without valgrind and the triggers disabled, the backends' CPU time per
write (the kernel's schedstat, median over --writes) over that write's count gives the server's own nanoseconds per
instruction, which turns the triggers' instructions into time; it is set beside the routes' p95 without the triggers
from write_route_cost's table in docs/performance.md.

Usage: python -m bench.trigger_instructions [--writes 50] [--warmup 10] [--ref-python PATH]
Prints progress on stderr and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import psycopg2

from service.cli import migrate
from service.core.config import load_settings

from . import pg_callgrind
from . import postgres as bench_postgres
from .sidebyside import REPO, create_bench_database, log
from .write_route_cost import BULK, RUNS, SCHEMA, SESSIONS, Seeder, switch_triggers

DRIVER = REPO / "bench" / "agentos_write_driver.py"
DOCS = REPO / "docs" / "performance.md"
POOL = 400  # sessions renamed and patched


@dataclass(frozen=True)
class Write:
    """One write AgentOS makes: the driver's name for it, the name write_route_cost's table gives it, and how many
    seeded sessions (with runs) one write consumes."""

    key: str
    name: str
    consumes: int = 0


WRITES = (
    Write("create", "POST /sessions (create)"),
    Write("rename", "POST /sessions/{id}/rename"),
    Write("patch", "PATCH /sessions/{id}"),
    Write("delete", "DELETE /sessions/{id}", 1),
    Write("bulk_delete", f"DELETE /sessions (bulk, {BULK})", BULK),
    Write("upsert_session", "agno upsert_session"),
    Write("run_write", "agno run write (upsert_run + upsert_session)"),
)


class Bench:
    """The benchmark database and the driver processes that write to it."""

    def __init__(self, dsn: str, ref_python: str, pool: list[str]) -> None:
        self.dsn, self.ref_python, self.pool = dsn, ref_python, pool
        self.tags = count(1)

    @contextmanager
    def cursor(self) -> Iterator[object]:
        """An autocommit cursor on a connection closed on leaving (the driver's backends are the only clients)."""
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        try:
            yield conn.cursor()
        finally:
            conn.close()

    def drive(self, write: Write, writes: int, timed_from: int | None = None) -> dict:
        """One driver process making `writes` writes of `write` (sessions it consumes seeded first); its answer."""
        tag = next(self.tags)
        ids: list[list[str]] = []
        if write.consumes:
            with self.cursor() as cur:
                made = Seeder(cur).sessions(write.consumes * writes, f"counted{tag}")
            ids = [made[k * write.consumes:(k + 1) * write.consumes] for k in range(writes)]
        plan = {"url": self.dsn.replace("postgresql://", "postgresql+psycopg://", 1), "dsn": self.dsn,
                "schema": SCHEMA, "write": write.key, "count": writes, "timed_from": timed_from, "ids": ids,
                "pool": self.pool, "tag": tag}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "REF_"))}
        env |= {"PYTHONPATH": str(REPO), "AGNO_TELEMETRY": "false"}
        done = subprocess.run([self.ref_python, str(DRIVER), json.dumps(plan)], cwd=REPO, env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"the driver failed on {write.key} ({done.returncode}):\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def switch(self, enabled: bool) -> None:
        """The change log's six triggers on or off (write_route_cost's switch)."""
        with self.cursor() as cur:
            switch_triggers(cur, enabled)


def prepare(dsn: str, ref_python: str) -> Bench:
    """agno's tables made by agno itself, the change log installed, the pool of sessions with runs seeded."""
    bench = Bench(dsn, ref_python, [])
    log("agno creates its tables (one upsert_session)")
    bench.drive(WRITES[5], 1)
    migrate(load_settings({"AGNO_PG_DSN": dsn, "AGNO_DB_SCHEMA": SCHEMA}), changes=True, out=io.StringIO())
    with bench.cursor() as cur:
        bench.pool = Seeder(cur).sessions(POOL, "pool")
        for table in (SESSIONS, RUNS):
            cur.execute(f"VACUUM ANALYZE {table}")
    return bench


def count_instructions(bench: Bench, out: Path, warmup: int, writes: int) -> dict[str, dict[bool, float]]:
    """Per write, PostgreSQL's instructions per write with the triggers (True) and without (False)."""
    counted: dict[str, dict[bool, list[float]]] = {}
    for write in WRITES:
        counted[write.key] = {True: [], False: []}
        for enabled in (False, True, True, False):  # ABBA: what one order leaves behind evens out
            bench.switch(enabled)
            log(f"{write.name}: counting {'with' if enabled else 'without'} the triggers ({warmup} + {writes})")
            full = pg_callgrind.backend_instructions(out, bench.drive(write, warmup + writes)["backends"])
            warm = pg_callgrind.backend_instructions(out, bench.drive(write, warmup)["backends"])
            counted[write.key][enabled].append((full - warm) / writes)
        log(f"{write.name}: without {statistics.mean(counted[write.key][False]):,.0f}, with "
            f"{statistics.mean(counted[write.key][True]):,.0f} instructions per write")
    return {key: {on: statistics.mean(runs) for on, runs in sides.items()} for key, sides in counted.items()}


def cpu_per_write(bench: Bench, warmup: int, writes: int) -> dict[str, float]:
    """Per write, the median CPU nanoseconds its backends spent, triggers off, on the server without valgrind."""
    bench.switch(False)
    medians = {}
    for write in WRITES:
        spent = bench.drive(write, warmup + writes, timed_from=warmup)["cpu_ns"]
        medians[write.key] = statistics.median(spent)
        log(f"{write.name}: median backend CPU {medians[write.key] / 1e3:.1f} µs per write without the triggers")
    return medians


def documented_p95(docs: Path = DOCS) -> dict[str, float]:
    """The routes' p95 without the triggers (ms) from write_route_cost's table in docs/performance.md."""
    found = {}
    for line in docs.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and (hit := re.fullmatch(r"[\d.]+ / ([\d.]+) ms", cells[4])):
            found.setdefault(cells[0], float(hit.group(1)))
    return found


def table(counts: dict[str, dict[bool, float]], cpu: dict[str, float], p95: dict[str, float]) -> str:
    """The Markdown report: per write, the instructions without and with, their difference and its share, and that
    difference as time at the server's own rate beside the route's p95."""
    lines = ["| write | PG instructions without | with | difference | share of PG work | backend CPU without "
             "(median) | ns / instruction | added time | p95 without (timed) | added / p95 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for write in WRITES:
        off, on = counts[write.key][False], counts[write.key][True]
        rate = cpu[write.key] / off
        added_ms = (on - off) * rate / 1e6
        route_p95 = p95.get(write.name)
        versus = (f"{route_p95:.2f} ms | {added_ms / route_p95:.2%}" if route_p95 else "n/a | n/a")
        lines.append(f"| {write.name} | {off:,.0f} | {on:,.0f} | {on - off:+,.0f} | {(on - off) / off:+.1%} | "
                     f"{cpu[write.key] / 1e3:.1f} µs | {rate:.2f} | {added_ms * 1e3:.1f} µs | {versus} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """One cluster: loaded, counted under callgrind, then timed without it; the table on stdout."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writes", type=int, default=50, help="counted writes per process")
    ap.add_argument("--warmup", type=int, default=10, help="writes before them (both processes make them)")
    ap.add_argument("--ref-python",
                    default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    args = ap.parse_args(argv)
    if args.writes < 1 or args.warmup < 1:
        ap.error("--writes and --warmup must be at least 1")
    root = Path(tempfile.mkdtemp(prefix="agno-trigger-ir-"))
    root.chmod(0o755)  # the server's user must reach its cluster here
    try:
        cluster = bench_postgres.start(root, "trigger-instructions", log)
        try:
            dsn = create_bench_database(cluster.socket_dir)
            bench = prepare(dsn, args.ref_python)
            data = pg_callgrind.data_directory(dsn)
        finally:
            cluster.stop()
        log(f"starting PostgreSQL under callgrind on {data}")
        with pg_callgrind.counted_server(data, dsn) as out:
            counts = count_instructions(bench, out, args.warmup, args.writes)
        log("the same cluster without valgrind: backend CPU time per write, triggers off")
        cluster = bench_postgres.start(root, "trigger-instructions", log)
        try:
            cpu = cpu_per_write(bench, args.warmup, args.writes)
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(counts, cpu, documented_p95()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
