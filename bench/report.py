"""The benchmark's markdown report: the side-by-side table per worker count, the issue's targets with a verdict
and, where one is not met, what bounds the route; and throughput by worker count.

Targets (the issue's, at equal worker count in one run): every route ≥ 5× AgentOS's throughput, the lists ≥ 8×,
list by user ≥ 20×, name search ≥ 10×; p99 at 64 clients ≤ 1/5 of AgentOS's.

A route that misses a target is bound by the largest part of agno-session's CPU per request: PostgreSQL's (or
PostgreSQL outright when agno-session serves ≥ 80% of what pgbench gets from the same SQL), the framework's
(the CPU per request of /healthz, which touches no database, under the same load) or the service's own code
(the server's CPU above that floor). The cap is what the ratio could reach if agno-session cost only PostgreSQL
plus the floor: AgentOS's CPU per request (server + PostgreSQL) over that; an estimate for a CPU-bound machine.
"""

from __future__ import annotations

import json

FLOOR_ROUTE = "healthz"
LIST_TARGET, DEFAULT_TARGET = 8.0, 5.0
TARGETS = {"list": LIST_TARGET, "list page 50": LIST_TARGET, "list by user": 20.0, "name search": 10.0}
P99_CLIENTS, P99_TARGET = 64, 1 / 5
AT_CEILING = 0.8  # of pgbench's tps: PostgreSQL is the bound outright


def table(header: list[str], rows: list[list[object]], align: str = "") -> list[str]:
    """A markdown table; `align` one letter per column, l or r (default: the first left, the others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if c == "r" else "---" for c in align) + "|",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def worker_counts(report: dict) -> list[int]:
    """The run's worker counts (an older report has one, as a number)."""
    workers = report["meta"]["workers"]
    return workers if isinstance(workers, list) else [workers]


def cells_of(report: dict, workers: int) -> list[dict]:
    """The report's cells measured with `workers` workers (an older report's cells carry no count)."""
    return [r for r in report["results"] if r.get("workers", worker_counts(report)[0]) == workers]


def ratio_text(value: float | None) -> str:
    return f"{value:.1f}×" if value else "n/a"


def both(cell: dict, key: str, digits: int) -> str:
    """One measurement of AgentOS and of agno-session: "A / B"."""
    return f"{cell['a'][key]:.{digits}f} / {cell['b'][key]:.{digits}f}"


def side_by_side(cells: list[dict]) -> list[str]:
    """Per route and client count: throughput, latency, CPU per request of both servers and of PostgreSQL."""
    rows = []
    for r in cells:
        a, b = r["a"], r["b"]
        errors = f" ⚠ errors A {a['errors']} / B {b['errors']}" if a["errors"] or b["errors"] else ""
        rows.append([f"{r['route']}{errors}", r["clients"], f"{a['rps']:.0f}", f"{b['rps']:.0f}",
                     ratio_text(r["ratio"]), both(r, "p50_ms", 1), both(r, "p99_ms", 1), both(r, "server_cpu_ms", 2),
                     both(r, "pg_cpu_ms", 2), f"{max(a['foreign_cores'], b['foreign_cores']):.2f}"])
    return table(["route", "clients", "AgentOS req/s", "agno-session req/s", "ratio", "p50 A / B ms", "p99 A / B ms",
                  "server CPU ms/req A / B", "PG CPU ms/req A / B", "foreign load (cores)"], rows)


def bound(cell: dict, floor: dict | None, ceiling: object) -> str:
    """What bounds agno-session on this cell, with the measurements that say so."""
    a, b = cell["a"], cell["b"]
    server, pg = b["server_cpu_ms"], b["pg_cpu_ms"]
    floor_ms = min(floor["b"]["server_cpu_ms"], server) if floor else None
    own = server - floor_ms if floor_ms is not None else server
    has_ceiling = isinstance(ceiling, (int, float)) and ceiling > 0
    ceiling_text = (f"pgbench ceiling {ceiling:.0f} tps, served {100 * b['rps'] / ceiling:.0f}% of it" if has_ceiling
                    else "no pgbench ceiling for this SQL")
    if (has_ceiling and b["rps"] >= AT_CEILING * ceiling) or pg >= max(own, floor_ms or 0.0):
        text = f"bound: PostgreSQL ({pg:.2f} ms PG CPU/req of {server + pg:.2f} ms total; {ceiling_text})"
    elif floor_ms is None:
        text = f"bound: server CPU ({server:.2f} ms/req, PG {pg:.2f} ms/req; /healthz floor not measured)"
    elif floor_ms >= own:
        text = f"bound: framework (server CPU {server:.2f} ms/req, /healthz floor {floor_ms:.2f} ms/req)"
    else:
        text = (f"bound: service code (server CPU {server:.2f} ms/req above the /healthz floor of {floor_ms:.2f}; "
                f"PG {pg:.2f} ms/req)")
    if floor_ms is not None and pg + floor_ms > 0:
        text += f"; ratio cap at PG + floor ≈ {(a['server_cpu_ms'] + a['pg_cpu_ms']) / (pg + floor_ms):.1f}×"
    return text


def verdicts(cells: list[dict], pgbench: dict | None) -> list[str]:
    """The issue's targets per route and client count: MET / NOT MET, and the bound where not met."""
    floors = {r["clients"]: r for r in cells if r["route"] == FLOOR_ROUTE}
    rows = []
    for r in (r for r in cells if r["route"] != FLOOR_ROUTE):
        target = TARGETS.get(r["route"], DEFAULT_TARGET)
        met = bool(r["ratio"]) and r["ratio"] >= target
        p99_text, p99_met = "—", True
        if r["clients"] == P99_CLIENTS:
            p99_met = r["p99_ratio"] is not None and r["p99_ratio"] <= P99_TARGET
            share = f"1/{1 / r['p99_ratio']:.1f}" if r["p99_ratio"] else "n/a"
            p99_text = f"{share} (≤ 1/5): {'MET' if p99_met else 'NOT MET'}"
        errors = " ⚠ errors" if r["a"]["errors"] or r["b"]["errors"] else ""
        why = "" if met and p99_met else bound(r, floors.get(r["clients"]), (pgbench or {}).get(r["route"]))
        rows.append([f"{r['route']}{errors}", r["clients"], f"{ratio_text(r['ratio'])} (≥ {target:.0f}×): "
                     f"{'MET' if met else 'NOT MET'}", p99_text, why])
    return table(["route", "clients", "throughput ratio", "p99 B / A at 64 clients", "bound"], rows, "lrlll")


def by_workers(report: dict) -> list[str]:
    """Per route and client count: both servers' throughput at each worker count, the ratio, and how each
    server's throughput scaled from the fewest workers to the most."""
    counts = worker_counts(report)
    cells = {(r["route"], r["clients"], r.get("workers", counts[0])): r for r in report["results"]}
    header = ["route", "clients"]
    for w in counts:
        header += [f"{w}w A / B req/s", f"{w}w ratio"]
    header.append(f"{counts[-1]}w / {counts[0]}w A / B")
    rows = []
    for route, clients in dict.fromkeys((r["route"], r["clients"]) for r in report["results"]):
        row: list[object] = [route, clients]
        for w in counts:
            cell = cells.get((route, clients, w))
            row += [both(cell, "rps", 0), ratio_text(cell["ratio"])] if cell else ["—", "—"]
        first, last = cells.get((route, clients, counts[0])), cells.get((route, clients, counts[-1]))
        scaled = [last[k]["rps"] / first[k]["rps"] if first and last and first[k]["rps"] else None for k in "ab"]
        row.append(" / ".join(f"{x:.2f}×" if x else "n/a" for x in scaled))
        rows.append(row)
    return table(header, rows)


def markdown(report: dict) -> str:
    """The whole report: per worker count the side-by-side table and the targets; then throughput by workers."""
    meta = report["meta"]
    counts = worker_counts(report)
    lines = [
        f"Dataset: {meta['dataset']['sessions']} sessions / {meta['dataset']['runs']} runs; workers: "
        f"{', '.join(map(str, counts))} each (agno-session threads: {meta['threads']}); wrk {meta['duration']}s per "
        f"run; indexes: {meta['indexes']}; machine: {meta['cores']} cores, load avg at start {meta['loadavg']}.",
    ]
    for w in counts:
        cells = cells_of(report, w)
        lines += ["", f"### {w} worker{'s' if w > 1 else ''} each", "", *side_by_side(cells),
                  "", "Targets (agno-session / AgentOS at equal worker count; bound where not met):", "",
                  *verdicts(cells, meta.get("pgbench"))]
    if len(counts) > 1:
        lines += ["", "### Throughput by workers", "", *by_workers(report)]
    if meta.get("pgbench"):
        lines += ["", f"pgbench ceiling (same SQL, 16 clients, tps): {json.dumps(meta['pgbench'])}"]
    notes = sorted({f"{r['route']}: {r['note']}" for r in report["results"] if r.get("note")})
    lines += [""] + [f"- {n}" for n in notes] if notes else []
    return "\n".join(lines) + "\n"
