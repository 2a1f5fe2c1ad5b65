"""Soak: agno-session (and AgentOS, for comparison) under a steady mixed load of reads and writes for --seconds
(default 600), each server's worker processes' resident memory sampled from /proc/<pid>/status (VmRSS) every
--interval seconds, with a progress line per sample. It stops by itself.

Usage: python -m bench.soak [--seconds 600] [--interval 5] [--workers 2] [--clients 16]
                                    [--servers both|agno-session] [--max-growth-mb 8] [--routes list,detail,...]
                                    [--sessions 20000] [--dsn ...] (and python -m bench's database and server options)

The load is one request of each route of bench/routes.py in turn (reads, create, PATCH, rename, state
merge, and a delete of what create made some cycles earlier, so the table keeps its size), sent by wrk in
--chunk-second pieces; both servers are loaded at the same time, each by its own wrk, so a soak takes --seconds,
not twice that. After each piece the sessions it created and did not yet delete are removed.

Report per worker pid: RSS at the start, its peak, at the middle and at the end, and the growth over the second
half (median of the samples around the middle to the median of the last tenth). The first half is warm-up:
connection pools, the SQL and schema caches, the allocator's arenas grow to their working size there. A server is
"bounded" when no worker grew by --max-growth-mb (8 MB) or more over the second half and none was replaced.
Why 8 MB: a steady worker's RSS still moves by a MB or two (the allocator keeping or returning arenas, the largest
response in flight), and over the 5-minute second half of a 10-minute soak at 100 requests/s per worker, 8 MB is
a leak of 280 bytes per request. The growth per request of the second half is printed too (an upper bound on a
per-request leak): a smaller leak wants a longer soak (--seconds 3600).
Reports: <out>/soak-<sessions>-w<workers>.md and .json. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import Server

from . import procs as bench_procs
from . import sidebyside
from .report import table
from .routes import Route, mix_script, routes


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Load:
    """One server under the soak: its wrk pieces and its workers' memory samples."""

    server: Server
    key: str
    reference: bool
    wrk: subprocess.Popen | None = None
    piece: int = 0
    piece_start: float = 0.0
    piece_tag: str = ""
    pieces: list[dict] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)  # {"t": seconds, "workers": {pid: MB}, "master": MB}

    @property
    def label(self) -> str:
        return self.server.name

    def last_rate(self) -> str:
        """Throughput of the last finished piece, for the progress line."""
        if not self.pieces:
            return "… req/s"
        last = self.pieces[-1]
        errors = f" ({last['errors']} errors)" if last["errors"] else ""
        return f"{last['rps']:.0f} req/s{errors}"


def sample(load: Load, t: float) -> None:
    """The workers' and the master's resident memory now."""
    master = load.server.proc.pid
    workers = {pid: bench_procs.rss_mb(pid) for pid in bench_procs.worker_pids(master)}
    load.samples.append({"t": round(t, 1), "workers": {p: round(m, 2) for p, m in workers.items() if m is not None},
                         "master": bench_procs.rss_mb(master)})


def start_piece(load: Load, mix: list[Route], clients: int, length: float, nonce: str, lag: int, workdir: Path,
                now: float) -> None:
    """The next wrk piece against this server, with ids of its own."""
    load.piece += 1
    load.piece_tag = f"s{nonce}{load.key}{load.piece}"
    script = workdir / f"soak-{load.key}.lua"
    script.write_text(mix_script(mix, load.piece_tag, load.reference, lag))
    load.piece_start = now
    load.wrk = subprocess.Popen(sidebyside.wrk_argv(load.server.url, script, clients, length), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def finish_piece(load: Load, dsn: str, now: float, t0: float) -> None:
    """Read the finished piece's summary and remove the sessions it created and did not delete."""
    out, err = load.wrk.communicate()
    summary = sidebyside.wrk_summary(load.wrk.returncode, out, err)
    load.wrk = None
    seconds = summary["duration_us"] / 1e6
    load.pieces.append({"start": round(load.piece_start - t0, 1), "end": round(now - t0, 1),
                        "requests": summary["requests"], "rps": summary["requests"] / seconds if seconds else 0.0,
                        "errors": summary["status_errors"] + summary["socket_errors"],
                        "p99_ms": summary["p99_us"] / 1000})
    sidebyside.forget_created(dsn, f"bench-new-{load.piece_tag}-")


def progress(loads: list[Load], t: float, seconds: float) -> None:
    """One line: elapsed time, and per server its last throughput and each worker's RSS."""
    parts = []
    for load in loads:
        rss = " ".join(f"{mb:.1f}" for _, mb in sorted(load.samples[-1]["workers"].items()))
        parts.append(f"{load.label}: {load.last_rate()}, worker RSS MB {rss}")
    log(f"{t:5.0f}/{seconds:.0f} s | " + " | ".join(parts))


def soak(args: argparse.Namespace) -> dict:
    """Start the database and the servers, load them for --seconds while sampling; the results document."""
    workdir = Path(tempfile.mkdtemp(prefix="agno-soak-"))
    wanted = {r.strip() for r in args.routes.split(",") if r.strip()}
    mix = [r for r in routes(args.sessions) if not wanted or r.name in wanted]
    lag = math.ceil(8 * args.clients / len(mix))  # a delete trails its create by ≥ 8x the requests in flight
    loads: list[Load] = []
    try:
        with sidebyside.database(args) as (dsn, _pg_pid, dataset):
            tree = Path(args.service_tree)
            log(f"starting {'agno-session' if args.servers != 'both' else 'agno-session and AgentOS'} "
                f"({args.workers} worker(s) each)")
            served = sidebyside.start_agno_session(dsn, args.workers, args.threads, workdir, tree)
            loads.append(Load(served, "b", False))
            if args.servers == "both":
                loads.append(Load(sidebyside.start_agentos(dsn, args.workers, args.ref_python, workdir), "a", True))
            for load in loads:
                load.server.wait_healthy("/healthz" if load.key == "b" else "/health")
            log(f"mixed load of {len(mix)} routes at {args.clients} clients per server for {args.seconds:.0f} s, "
                f"memory sampled every {args.interval:g} s")
            t0 = time.monotonic()
            end, next_sample = t0 + args.seconds, t0
            while True:
                now = time.monotonic()
                for load in loads:
                    if load.wrk is not None and load.wrk.poll() is None and now > end + 60:
                        load.wrk.kill()  # wrk overran its own -d by a minute: stop it, the summary fails below
                    if load.wrk is not None and load.wrk.poll() is not None:
                        finish_piece(load, dsn, now, t0)
                    if load.wrk is None and end - now >= 1:
                        start_piece(load, mix, args.clients, min(args.chunk, end - now), args.nonce, lag, workdir,
                                    now)
                running = any(load.wrk is not None for load in loads)
                if now >= next_sample or not running:
                    for load in loads:
                        sample(load, now - t0)
                    progress(loads, now - t0, args.seconds)
                    while next_sample <= now:
                        next_sample += args.interval
                if not running:
                    break
                time.sleep(0.25)
            return {"meta": {"dataset": dataset, "workers": args.workers, "threads": args.threads,
                             "clients": args.clients, "seconds": args.seconds, "interval": args.interval,
                             "routes": [r.name for r in mix], "max_growth_mb": args.max_growth_mb,
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - args.seconds)),
                             "loadavg": Path("/proc/loadavg").read_text().split()[0]},
                    "servers": {load.label: summarize(load, args.seconds, args.max_growth_mb) for load in loads}}
    finally:
        for load in loads:
            if load.wrk is not None and load.wrk.poll() is None:
                load.wrk.kill()
                load.wrk.wait()
            load.server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def window(samples: list[dict], pid: int, start: float, stop: float) -> float | None:
    """The median RSS of `pid` over the samples taken between `start` and `stop` seconds (else the nearest)."""
    inside = [s["workers"][pid] for s in samples if start <= s["t"] <= stop and pid in s["workers"]]
    if inside:
        return statistics.median(inside)
    having = [s for s in samples if pid in s["workers"]]
    nearest = min(having, key=lambda s: min(abs(s["t"] - start), abs(s["t"] - stop)), default=None)
    return nearest["workers"][pid] if nearest else None


def summarize(load: Load, seconds: float, max_growth_mb: float) -> dict:
    """Per worker: start, peak, middle, end and second-half growth; throughput; the verdict."""
    samples = load.samples
    pids = sorted({pid for s in samples for pid in s["workers"]})
    last = samples[-1]["workers"] if samples else {}
    workers = {}
    for pid in pids:
        series = [s["workers"][pid] for s in samples if pid in s["workers"]]
        mid, end = window(samples, pid, 0.45 * seconds, 0.55 * seconds), window(samples, pid, 0.9 * seconds, seconds)
        workers[pid] = {"start_mb": series[0], "peak_mb": max(series), "mid_mb": mid, "end_mb": end,
                        "growth_mb": end - mid if mid is not None and end is not None else None,
                        "replaced": pid not in last}
    second_half = sum(p["requests"] * overlap(p, seconds / 2, seconds) for p in load.pieces)
    growth = max((w["growth_mb"] for w in workers.values() if w["growth_mb"] is not None), default=0.0)
    replaced = [pid for pid, w in workers.items() if w["replaced"]]
    bounded = growth < max_growth_mb and not replaced
    requests = sum(p["requests"] for p in load.pieces)
    per_worker = second_half / max(1, len(workers) - len(replaced))
    return {"workers": workers, "requests": requests, "errors": sum(p["errors"] for p in load.pieces),
            "rps": requests / seconds if seconds else 0.0, "second_half_requests": round(second_half),
            "max_growth_mb": growth,
            "bytes_per_request": max(0.0, growth) * 1024 * 1024 / per_worker if per_worker else None,
            "replaced": replaced, "bounded": bounded, "pieces": load.pieces, "samples": samples}


def overlap(piece: dict, start: float, stop: float) -> float:
    """The share of a wrk piece's time that falls between `start` and `stop`."""
    length = piece["end"] - piece["start"]
    return max(0.0, min(piece["end"], stop) - max(piece["start"], start)) / length if length > 0 else 0.0


def markdown(report: dict) -> str:
    """Per server: throughput, errors, the verdict; per worker: start, peak, middle, end and growth."""
    meta = report["meta"]
    lines = [f"Soak: {meta['seconds']:.0f} s of a mixed load ({', '.join(meta['routes'])}) at {meta['clients']} "
             f"clients per server; {meta['dataset']['sessions']} sessions; {meta['workers']} worker(s) each; RSS "
             f"sampled every {meta['interval']:g} s; bounded = every worker grew < {meta['max_growth_mb']:g} MB over "
             f"the second half and none was replaced; load avg at the end {meta['loadavg']}.", ""]
    rows = []
    for name, s in report["servers"].items():
        per_request = f"{s['bytes_per_request']:.0f}" if s["bytes_per_request"] is not None else "n/a"
        verdict = "bounded" if s["bounded"] else "NOT bounded" + (f" (replaced: {s['replaced']})" if s["replaced"]
                                                                   else "")
        rows.append([name, f"{s['rps']:.0f}", s["requests"], s["errors"], f"{s['max_growth_mb']:+.1f}", per_request,
                     verdict])
    lines += table(["server", "req/s", "requests", "errors", "max growth 2nd half MB", "bytes/request 2nd half",
                    "verdict"], rows, "lrrrrrl")
    rows = []
    for name, s in report["servers"].items():
        for pid, w in s["workers"].items():
            growth = f"{w['growth_mb']:+.1f}" if w["growth_mb"] is not None else "n/a"
            rows.append([name, pid, f"{w['start_mb']:.1f}", f"{w['peak_mb']:.1f}", fmt_mb(w["mid_mb"]),
                         fmt_mb(w["end_mb"]), growth + (" (replaced)" if w["replaced"] else "")])
    lines += ["", *table(["server", "worker pid", "start MB", "peak MB", "middle MB", "end MB", "growth 2nd half MB"],
                         rows, "lrrrrrr")]
    return "\n".join(lines) + "\n"


def fmt_mb(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "n/a"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (the database and server ones are bench.sidebyside's)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sidebyside.add_common_args(ap)
    ap.add_argument("--seconds", type=float, default=600.0, help="how long the load lasts")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between memory samples (progress lines)")
    ap.add_argument("--chunk", type=float, default=20.0, help="seconds per wrk piece (a throughput figure each)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes per server")
    ap.add_argument("--clients", type=int, default=16, help="connections per server")
    ap.add_argument("--servers", choices=("both", "agno-session"), default="both")
    ap.add_argument("--routes", default="", help="comma-separated route names in the mix (default: all)")
    ap.add_argument("--max-growth-mb", type=float, default=8.0,
                    help="second-half growth of a worker's RSS at or above which memory is not bounded")
    args = ap.parse_args(argv)
    if args.seconds < 10 or args.interval <= 0 or args.chunk < 1:
        ap.error("--seconds ≥ 10, --interval > 0 and --chunk ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Soak, print the report, write it and the JSON under --out; exit 1 when agno-session's memory is not
    bounded (AgentOS is there for comparison only)."""
    args = parse_args(argv)
    if not Path(args.ref_python).exists() and args.servers == "both":
        raise SystemExit(f"reference python {args.ref_python} not found (make contract-test builds .venv-agentos)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    report = soak(args)
    text = markdown(report)
    stem = f"{args.out}/soak-{args.sessions}-w{args.workers}{'-' + args.label if args.label else ''}"
    Path(f"{stem}.json").write_text(json.dumps(report, indent=2))
    Path(f"{stem}.md").write_text(text)
    print(text)
    log(f"written {stem}.md and .json")
    return 0 if report["servers"]["agno-session"]["bounded"] else 1


if __name__ == "__main__":
    sys.exit(main())
