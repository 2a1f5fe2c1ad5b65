"""Scale summary: how each route's cost grows with the dataset, from the side-by-side JSON reports at several sizes.

Usage: python -m bench.scale reports/bench/bench-20000-w1.json reports/bench/bench-200000-w1.json \
           reports/bench/bench-1000000-w1.json [--limit 2]

Per route, client count and worker count, for both servers: requests/s and total CPU per request (the server's
plus PostgreSQL's) at each size, and each relative to the smallest size given (20k): the cost factor is
req/s(smallest) / req/s(size) and CPU(size) / CPU(smallest), so 2.0× means twice as expensive. The issue's scale
requirement (the paged and filtered lists and the detail stay within 2× of their 20k cost) gets a verdict for
those routes: "within 2×" when neither factor passes --limit at any size. The CPU factor is the steadier of the two
on a shared machine; the throughput factor also moves with other load.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import table, worker_counts

SCALE_ROUTES = ("list", "list by user", "name search", "list page 50", "detail")
SERVERS = (("a", "AgentOS"), ("b", "agno-session"))


def size_label(sessions: int) -> str:
    """20000 → 20k, 1000000 → 1M."""
    if sessions >= 1_000_000 and sessions % 100_000 == 0:
        return f"{sessions / 1_000_000:g}M"
    return f"{sessions / 1000:g}k" if sessions >= 1000 else str(sessions)


def load(paths: list[str]) -> dict[int, dict]:
    """The reports by dataset size (sessions); two reports of one size are an error."""
    by_size: dict[int, dict] = {}
    names: dict[int, str] = {}
    for path in paths:
        report = json.loads(Path(path).read_text())
        size = report["meta"]["dataset"]["sessions"]
        if size in by_size:
            raise SystemExit(f"two reports of {size} sessions: {names[size]} and {path}; give one per size")
        by_size[size], names[size] = report, path
    return dict(sorted(by_size.items()))


def cost(cell: dict, side: str) -> tuple[float, float]:
    """Requests/s and total CPU ms per request (server + PostgreSQL) of one server in one cell."""
    m = cell[side]
    return m["rps"], m["server_cpu_ms"] + m["pg_cpu_ms"]


def summary(reports: dict[int, dict], limit: float) -> list[str]:
    """The markdown lines: one table per worker count."""
    sizes = list(reports)
    base = sizes[0]
    cells = {}
    for size, report in reports.items():
        for r in report["results"]:
            cells[(r.get("workers", worker_counts(report)[0]), r["route"], r["clients"], size)] = r
    sizes_of: dict[tuple, int] = {}
    for w, route, clients, _ in cells:
        sizes_of[(w, route, clients)] = sizes_of.get((w, route, clients), 0) + 1
    keys = [k for k, n in sizes_of.items() if n > 1]
    lines = [f"Cost relative to {size_label(base)} sessions (factor: req/s({size_label(base)}) / req/s and "
             f"CPU / CPU({size_label(base)}); 2.0× = twice as expensive). Verdict: within {limit:g}× when neither "
             f"factor passes {limit:g} at any size."]
    if len(keys) < len(sizes_of):
        lines.append(f"{len(sizes_of) - len(keys)} route / client / worker combinations measured at one size only "
                     "are left out.")
    for workers in dict.fromkeys(w for w, _, _ in keys):
        header = ["route", "clients", "server"]
        header += [f"{size_label(s)} req/s" for s in sizes] + [f"{size_label(s)} CPU ms/req" for s in sizes]
        header.append("verdict")
        rows = []
        for _, route, clients in (k for k in keys if k[0] == workers):
            for side, name in SERVERS:
                measured = {s: cost(cells[(workers, route, clients, s)], side) for s in sizes
                            if (workers, route, clients, s) in cells}
                rows.append([route, clients, name, *scale_cells(measured, sizes, base),
                             verdict(measured, base, limit) if route in SCALE_ROUTES else ""])
        lines += ["", f"### {workers} worker{'s' if workers > 1 else ''} each", "",
                  *table(header, rows, "lrl" + "r" * (2 * len(sizes)) + "l")]
    return lines


def factors(measured: dict[int, tuple[float, float]], size: int, base: int) -> tuple[float, float] | None:
    """The throughput and CPU cost factors of `size` relative to `base`."""
    if size not in measured or base not in measured:
        return None
    (rps0, cpu0), (rps, cpu) = measured[base], measured[size]
    return (rps0 / rps if rps else float("inf")), (cpu / cpu0 if cpu0 else float("inf"))


def scale_cells(measured: dict[int, tuple[float, float]], sizes: list[int], base: int) -> list[str]:
    """Req/s then CPU ms/req at each size, each with its factor to the base size."""
    rps_cells, cpu_cells = [], []
    for size in sizes:
        if size not in measured:
            rps_cells.append("—")
            cpu_cells.append("—")
            continue
        rps, cpu = measured[size]
        f = factors(measured, size, base)
        rps_cells.append(f"{rps:.0f}" + (f" ({f[0]:.2f}×)" if f and size != base else ""))
        cpu_cells.append(f"{cpu:.2f}" + (f" ({f[1]:.2f}×)" if f and size != base else ""))
    return rps_cells + cpu_cells


def verdict(measured: dict[int, tuple[float, float]], base: int, limit: float) -> str:
    """'within 2×', or which factor passed it at which size."""
    if base not in measured or len(measured) < 2:
        return "n/a (needs the base size and one more)"
    worst = []
    for size in measured:
        f = factors(measured, size, base)
        for name, value in zip(("req/s", "CPU"), f, strict=True):
            if value > limit:
                worst.append(f"{name} {value:.1f}× at {size_label(size)}")
    return f"within {limit:g}×" if not worst else f"NOT within {limit:g}× ({'; '.join(worst)})"


def main(argv: list[str] | None = None) -> int:
    """Print the scale summary of the given reports."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", help="bench JSON reports, one per dataset size")
    ap.add_argument("--limit", type=float, default=2.0, help="the cost factor a scale route may reach")
    args = ap.parse_args(argv)
    reports = load(args.reports)
    if len(reports) < 2:
        raise SystemExit("give reports of at least two dataset sizes")
    print("\n".join(summary(reports, args.limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
