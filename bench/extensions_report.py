"""The extensions' benchmark report: per route both servers' cost per request (server + PostgreSQL CPU),
throughput and latency, and the issue's targets as verdicts.

Targets (issue 19, agno-session against itself in one run): bounded reads cost the same at 50 runs and at 50,000
(within 2×); cursor pages cost the same on page 1 and on the deepest page (within 2×); `include=` rows cost at
most 1.5× a plain page. The verdict uses the CPU per request, the steadier figure on a shared machine; the
throughput factor is given beside it.
"""

from __future__ import annotations

from .report import table

# (what, the route, the route it is compared with, the largest factor allowed)
TARGETS = (
    ("history_limit=20: 50,000 runs vs 50", "detail history_limit=20 @50k", "detail history_limit=20 @50", 2.0),
    ("runs limit=20: 50,000 runs vs 50", "runs limit=20 @50k", "runs limit=20 @50", 2.0),
    ("100th runs page at 50,000 runs vs first page at 50", "runs page 100 @50k", "runs limit=20 @50", 2.0),
    ("cursor page 1,000 vs page 1", "list page 1000 (cursor)", "list page 1 (cursor)", 2.0),
    ("cursor page 50,000 vs page 1", "list page 50000 (cursor)", "list page 1 (cursor)", 2.0),
    ("include= vs a plain page", "list include", "list plain", 1.5),
)


def cost(measured: dict) -> float:
    """CPU milliseconds per request, the server's and PostgreSQL's."""
    return measured["server_cpu_ms"] + measured["pg_cpu_ms"]


def size(n: int | None) -> str:
    """Response bytes, short."""
    if n is None:
        return "—"
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n} B"


def rate(rps: float) -> str:
    """Requests per second with two significant digits below 10 (AgentOS's whole 50,000-run reads)."""
    return f"{rps:.0f}" if rps >= 10 else f"{rps:.2g}"


def times(factor: float) -> str:
    """A ratio: one decimal below 10×, whole above."""
    return f"{factor:.1f}×" if factor < 10 else f"{factor:.0f}×"


def summary_line(cell: dict) -> str:
    """One progress line for a measured or skipped route."""
    if "skipped" in cell:
        return f"{cell['route']}: skipped ({cell['skipped']})"
    b = cell["b"]
    line = f"{cell['route']}: agno-session {rate(b['rps'])} req/s, {cost(b):.2f} ms CPU/req"
    a = cell.get("a")
    return line + (f"; AgentOS {rate(a['rps'])} req/s, {cost(a):.1f} ms CPU/req ({cell['a_mode']})" if a
                   else f"; AgentOS {cell.get('a_mode', 'not measured')}")


def route_rows(cells: list[dict]) -> list[list[object]]:
    """Per route: agno-session's figures, AgentOS's, and the ratios."""
    rows = []
    for c in cells:
        if "skipped" in c:
            rows.append([c["route"], f"skipped: {c['skipped']}", *["—"] * 8])
            continue
        b, a = c["b"], c.get("a")
        a_text = f"{rate(a['rps'])} / {a['p50_ms']:.0f} / {cost(a):.1f}" if a else c.get("a_mode", "—")
        ratios = f"{times(b['rps'] / a['rps'])} / {times(cost(a) / cost(b))}" if a and cost(b) else "—"
        foreign = max(b["foreign_cores"], a["foreign_cores"] if a else 0.0)
        errors = " ⚠ errors" if b["errors"] or (a and a["errors"]) else ""
        rows.append([f"{c['route']}{errors}", f"{rate(b['rps'])} / {b['p50_ms']:.1f} / {b['p99_ms']:.1f}",
                     f"{b['server_cpu_ms']:.2f} + {b['pg_cpu_ms']:.2f}", size(c["bytes"].get("b")), a_text,
                     size(c["bytes"].get("a")), ratios, c.get("a_mode", "—") if a else "", f"{foreign:.2f}",
                     c.get("applied", "")])
    return rows


def verdict_rows(cells: list[dict]) -> list[list[object]]:
    """The targets whose two routes were in the run: factor of CPU per request (and of throughput), verdict."""
    by_name = {c["route"]: c for c in cells}
    rows = []
    for what, route, base, limit in TARGETS:
        if route not in by_name or base not in by_name:
            continue
        skipped = [by_name[n]["skipped"] for n in (route, base) if "skipped" in by_name[n]]
        if skipped:
            rows.append([what, "—", "—", f"≤ {limit:g}×", f"not measured ({skipped[0]})"])
            continue
        r, b = by_name[route]["b"], by_name[base]["b"]
        factor = cost(r) / cost(b)
        rows.append([what, f"{cost(b):.2f} → {cost(r):.2f} ms ({factor:.2f}×)",
                     f"{b['rps']:.0f} → {r['rps']:.0f} req/s ({b['rps'] / r['rps']:.2f}×)", f"≤ {limit:g}×",
                     f"{'met' if factor <= limit else 'missed'} ({factor:.2f}×)"])
    return rows


def markdown(report: dict) -> str:
    """The whole report."""
    meta, cells = report["meta"], report["results"]
    light = "; light runs: one small run per generated session" if meta["dataset"].get("light_runs") else ""
    lines = [f"Dataset: {meta['dataset']['sessions']} sessions / {meta['dataset']['runs']} runs (with the long "
             f"sessions{light}); {meta['workers']} worker(s) each, agno-session threads {meta['threads']}; wrk "
             f"{meta['duration']:g} s at {meta['clients']} clients; {meta['cores']} cores, load avg at start "
             f"{meta['loadavg']}; started {meta['started']}.", "",
             *table(["route", "agno-session req/s / p50 / p99 ms", "agno-session CPU ms/req server + PG", "bytes",
                     "AgentOS req/s / p50 ms / CPU ms/req", "AgentOS bytes", "ratio req/s / CPU", "AgentOS measured",
                     "foreign load (cores)", "Agno-Session-Applied"], route_rows(cells), "lrrrrrrlrl")]
    verdicts = verdict_rows(cells)
    if verdicts:
        lines += ["", "Targets (agno-session's CPU per request, server + PostgreSQL; throughput beside it):", "",
                  *table(["target", "CPU ms/req", "throughput", "limit", "verdict"], verdicts, "lllll")]
    notes = sorted({f"{c['route']}: {c['note']}" for c in cells if c.get("note")})
    return "\n".join(lines + ([""] + [f"- {n}" for n in notes] if notes else [])) + "\n"
