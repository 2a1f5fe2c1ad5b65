"""Differential test of the /sessions WRITE routes: same request, same starting rows, compare replies AND tables.

    # once: seed a template database and clone the two copies (drops/recreates them; stop their servers first)
    python tests/contract/writes.py setup
    # serve A (real AgentOS) on agno_wr_a and B (agno-session) on agno_wr_b, both answering to db id "writes-db",
    # then:
    python tests/contract/writes.py run --a http://127.0.0.1:7791 --b http://127.0.0.1:7792

For every request of the corpus (same line format as requests.txt) both databases are first restored to the
seeded state (DELETE + INSERT ... SELECT from a pristine copy in schema `wr_seed` of each database, so the
servers' pooled connections stay valid), then the request goes to A and to B and two things are compared:
the HTTP responses (replay.compare: status, content-type/allow/vary, body bytes, with uuid4s and "now"
timestamps masked by shape) and every column of every row of the sessions and runs tables on both sides
(JSON columns by jsonb_typeof + text, so JSON null vs SQL NULL shows; uuid4s and "now" epochs/ISO masked).
A corpus comment `# known: <why>` right above a request marks a deliberate deviation: reported as KNOWN and
not counted for the exit status (unless --strict). Exit status 1 on any other mismatch. Standard library +
the `psql` client only, so either venv can run it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import replay  # noqa: E402  (sibling module of this harness, not a package)

HERE = Path(__file__).resolve().parent
SOCKET_DIR = "/tmp/agno-ref/pgdata"
ADMIN_DSN = f"postgresql://postgres@/postgres?host={SOCKET_DIR}"
SEED_DB, A_DB, B_DB = "agno_wr_seed", "agno_wr_a", "agno_wr_b"
SNAPSHOT_SCHEMA = "wr_seed"
DB_ID = "writes-db"
KNOWN = re.compile(r"^\s*#\s*known:\s*(.*)$")
EPOCH_IN_TEXT = re.compile(r"(?<![\d.])(1[5-9]\d{8})(?![\d.])")
KEYS = {"agno_sessions": "session_id", "agno_runs": "run_id"}  # primary key of each compared table


def libpq(db: str, socket_dir: str = SOCKET_DIR) -> str:
    """libpq URL of one database on the shared test server."""
    return f"postgresql://postgres@/{db}?host={socket_dir}"


def psql(dsn: str, sql: str) -> str:
    """Run SQL through the psql client (stops at the first error) and return its unaligned output."""
    return psql_parallel([(dsn, sql)])[0]


def psql_parallel(jobs: list[tuple[str, str]]) -> list[str]:
    """Run several psql calls at once (one per database), so restoring/dumping A and B costs one round trip."""
    procs = [(dsn, sql, subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
             for dsn, sql in jobs]
    outputs = []
    for dsn, sql, proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"psql failed on {dsn}: {err.strip()}\n  SQL: {sql[:300]}")
        outputs.append(out)
    return outputs


@dataclass
class Tables:
    """Where the two compared tables live; the snapshot schema holds their pristine copies."""

    schema: str = "ai"
    sessions: str = "agno_sessions"
    runs: str = "agno_runs"
    snapshot: str = SNAPSHOT_SCHEMA

    def names(self) -> list[tuple[str, str]]:
        """(logical name, physical table) pairs in FK order: sessions before runs."""
        return [("agno_sessions", self.sessions), ("agno_runs", self.runs)]


@dataclass
class Side:
    """One server under test and the database it serves."""

    name: str
    url: str
    dsn: str
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def snapshot(dsn: str, tables: Tables) -> None:
    """Copy the seeded tables into the snapshot schema, the state every request starts from."""
    parts = [f'DROP SCHEMA IF EXISTS "{tables.snapshot}" CASCADE', f'CREATE SCHEMA "{tables.snapshot}"']
    for _, table in tables.names():
        parts.append(f'CREATE TABLE "{tables.snapshot}"."{table}" AS TABLE "{tables.schema}"."{table}"')
    psql(dsn, "; ".join(parts))


def restore_sql(tables: Tables) -> str:
    """SQL putting the live tables back to the snapshot in one transaction (row DELETEs: no lock fights)."""
    (_, sessions), (_, runs) = tables.names()
    s, r = f'"{tables.schema}"."{sessions}"', f'"{tables.schema}"."{runs}"'
    return (f'BEGIN; DELETE FROM {r}; DELETE FROM {s}; '
            f'INSERT INTO {s} SELECT * FROM "{tables.snapshot}"."{sessions}"; '
            f'INSERT INTO {r} SELECT * FROM "{tables.snapshot}"."{runs}"; COMMIT')


def restore(sides: list[Side], tables: Tables) -> None:
    """Restore every side's database to the seeded snapshot, in parallel."""
    psql_parallel([(side.dsn, restore_sql(tables)) for side in sides])


def load_columns(side: Side, tables: Tables) -> None:
    """Read each table's columns once (name, data type), in table order."""
    for logical, table in tables.names():
        out = psql(side.dsn, "SELECT coalesce(json_agg(json_build_array(column_name, data_type) "
                             "ORDER BY ordinal_position), '[]') FROM information_schema.columns "
                             f"WHERE table_schema = '{tables.schema}' AND table_name = '{table}'")
        side.columns[logical] = [tuple(c) for c in json.loads(out)]
        if not side.columns[logical]:
            raise RuntimeError(f"{side.name}: table {tables.schema}.{table} not found in {side.dsn}")


def dump_sql(side: Side, tables: Tables) -> str:
    """One query returning every row of both tables; JSON columns as [jsonb_typeof (None = SQL NULL), text]."""
    parts = []
    for logical, table in tables.names():
        pairs = []
        for name, dtype in side.columns[logical]:
            if dtype in ("json", "jsonb"):
                typeof = "json_typeof" if dtype == "json" else "jsonb_typeof"
                expr = f'json_build_array({typeof}("{name}"), "{name}"::text)'
            else:
                expr = f'to_json("{name}")'
            pairs.append(f"'{name}', {expr}")
        key = KEYS[logical]
        parts.append(f"'{logical}', (SELECT coalesce(json_agg(json_build_object({', '.join(pairs)}) "
                     f"ORDER BY \"{key}\"), '[]') FROM \"{tables.schema}\".\"{table}\")")
    return f"SELECT json_build_object({', '.join(parts)})"


def dump(sides: list[Side], tables: Tables) -> list[dict[str, list[dict[str, Any]]]]:
    """Every row of both tables of every side (dumped in parallel)."""
    return [json.loads(out) for out in psql_parallel([(side.dsn, dump_sql(side, tables)) for side in sides])]


def mask_text(text: str, low: float, high: float) -> str:
    """uuid4s and "now" (ISO or epoch seconds inside JSON text) become their shape, as in replay.mask_volatile."""
    def iso(match: re.Match) -> str:
        stamp = re.sub(r"(Z|[+-]00:00)$", "", match.group(0))
        try:
            moment = datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            return match.group(0)
        return "<now-iso>" if low <= moment <= high else match.group(0)

    text = replay.UUID4.sub("<uuid4>", text)
    text = replay.ISO.sub(iso, text)
    return EPOCH_IN_TEXT.sub(lambda m: "<now-epoch>" if low <= int(m.group(1)) <= high else m.group(1), text)


def mask_row(row: dict[str, Any], low: float, high: float) -> dict[str, Any]:
    """Mask one dumped row: epoch columns equal to "now", uuid4 ids, volatile values inside JSON text."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, list):  # [typeof, text] of a JSON column
            out[name] = [value[0], None if value[1] is None else mask_text(value[1], low, high)]
        elif isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            out[name] = "<now-epoch>"
        elif isinstance(value, str):
            out[name] = mask_text(value, low, high)
        else:
            out[name] = value
    return out


def _show_value(value: Any, limit: int = 300) -> str:
    """A column value as printed in reports: SQL NULL, jsonb type + text, or the scalar."""
    if isinstance(value, list):
        if value[0] is None:
            return "SQL NULL"
        text = value[1]
        return f"jsonb {value[0]}: " + (text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit})")
    return "SQL NULL" if value is None else json.dumps(value, ensure_ascii=False)


def _json_value_diff(a: str, b: str) -> str | None:
    """JSON path of the first difference between two jsonb texts (None when only formatting differs)."""
    try:
        found = replay.first_difference(replay._load(a.encode()), replay._load(b.encode()), "$")
    except ValueError:
        return None
    return found


def compare_rows(a: dict[str, list[dict]], b: dict[str, list[dict]], low: float, high: float) -> list[str]:
    """Every row/column difference between the two dumps, after masking; [] when the tables match."""
    problems = []
    for logical, key_col in KEYS.items():
        a_rows = {str(r[key_col]): r for r in (mask_row(x, low, high) for x in a[logical])}
        b_rows = {str(r[key_col]): r for r in (mask_row(x, low, high) for x in b[logical])}
        for key in sorted(set(a_rows) | set(b_rows)):
            row_a, row_b = a_rows.get(key), b_rows.get(key)
            where = f"{logical}[{key}]" + (f" (session {(row_a or row_b).get('session_id')})"
                                           if logical == "agno_runs" else "")
            if row_a is None or row_b is None:
                present = row_a or row_b
                brief = ", ".join(f"{c}={_show_value(v, 80)}" for c, v in present.items()
                                  if c in ("session_type", "user_id", "session_data", "status"))
                problems.append(f"row {where}: only in {'A' if row_b is None else 'B'}  ({brief})")
                continue
            for column in dict.fromkeys([*row_a, *row_b]):
                va, vb = row_a.get(column, "<no column>"), row_b.get(column, "<no column>")
                if va == vb:
                    continue
                line = f"row {where}.{column}:\n    A: {_show_value(va)}\n    B: {_show_value(vb)}"
                if isinstance(va, list) and isinstance(vb, list) and va[1] and vb[1] and va[0] == vb[0]:
                    path = _json_value_diff(va[1], vb[1])
                    if path:
                        line += f"\n    first JSON difference at {path}"
                problems.append(line)
    return problems


def known_notes(text: str, source: str) -> dict[str, str]:
    """`# known: why` comments, keyed by the `where` of the request right below them."""
    notes, pending = {}, None
    for number, raw in enumerate(text.splitlines(), 1):
        match = KNOWN.match(raw)
        if match:
            pending = match.group(1).strip() or "known deviation"
        elif raw.strip() and not raw.lstrip().startswith(("#", "+")):
            if pending:
                notes[f"{source}:{number}"] = pending
            pending = None
    return notes


@dataclass
class Outcome:
    """What one request produced on both sides, for callers (pytest) that want more than the printout."""

    request: replay.Request
    problems: list[str]
    a: replay.Response | None = None
    b: replay.Response | None = None
    known: str | None = None


def run_one(req: replay.Request, a: Side, b: Side, tables: Tables, headers: tuple[str, ...]) -> Outcome:
    """Restore both databases, send the request to A then B, and diff the responses and the tables."""
    restore([a, b], tables)
    try:
        resp_a = replay.send(a.url, req)
        resp_b = replay.send(b.url, req)
    except OSError as exc:
        return Outcome(req, [f"ERROR sending: {exc}"])
    problems = [f"response {p}" for p in replay.compare(resp_a, resp_b, headers)]
    low = min(resp_a.sent_at, resp_b.sent_at) - replay.NOW_WINDOW_S
    high = max(resp_a.received_at, resp_b.received_at) + replay.NOW_WINDOW_S
    problems += compare_rows(*dump([a, b], tables), low, high)
    return Outcome(req, problems, resp_a, resp_b)


def run_all(requests: list[replay.Request], a: Side, b: Side, tables: Tables, notes: dict[str, str],
            headers: tuple[str, ...] = replay.DEFAULT_COMPARED_HEADERS, verbose: bool = False,
            out: Any = sys.stdout) -> list[Outcome]:
    """Baseline check (restored copies identical), then every request in isolation; prints readable diffs."""
    for side in (a, b):
        load_columns(side, tables)
    restore([a, b], tables)
    now = time.time()
    baseline = compare_rows(*dump([a, b], tables), now, now)
    if baseline:
        print("BASELINE: the two restored databases differ before any request (re-run `setup`):", file=out)
        for problem in baseline[:20]:
            print(f"  {problem}", file=out)
        raise SystemExit(2)
    outcomes = []
    for req in requests:
        outcome = run_one(req, a, b, tables, headers)
        outcome.known = notes.get(req.where)
        outcomes.append(outcome)
        status = f"{outcome.a.status}/{outcome.b.status}" if outcome.a and outcome.b else "---"
        if not outcome.problems:
            if verbose:
                print(f"ok    {status} {req.label()}", file=out)
            continue
        tag = "KNOWN" if outcome.known else "DIFF "
        body = "" if req.body is None else "\t" + req.body.decode("utf-8", "replace")
        print(f"{tag} {status} {req.method} {req.target}{body}  [{req.where}]", file=out)
        if outcome.known:
            print(f"  known: {outcome.known}", file=out)
        for problem in outcome.problems:
            print(f"  {problem}", file=out)
        if verbose and outcome.a and outcome.b:
            print(f"  A body: {outcome.a.body[:1500]!r}\n  B body: {outcome.b.body[:1500]!r}", file=out)
    bad = sum(1 for o in outcomes if o.problems and not o.known)
    known = sum(1 for o in outcomes if o.problems and o.known)
    print(f"{len(outcomes)} write requests, {bad} mismatched, {known} known deviations ({a.url} vs {b.url})",
          file=out)
    return outcomes


def setup(args: argparse.Namespace) -> None:
    """Seed a template database through agno's own API, snapshot it, and clone the A and B copies from it."""
    for db in (args.a_db, args.b_db, args.seed_db):
        psql(args.admin_dsn, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(args.admin_dsn, f'CREATE DATABASE "{args.seed_db}"')
    agno_url = f"postgresql+psycopg://postgres@/{args.seed_db}?host={args.socket_dir}"
    subprocess.run([args.agno_python, str(HERE / "seed.py"), "--dsn", agno_url], check=True)
    snapshot(libpq(args.seed_db, args.socket_dir), Tables())
    for db in (args.a_db, args.b_db):
        psql(args.admin_dsn, f'CREATE DATABASE "{db}" TEMPLATE "{args.seed_db}"')
    a_url = f"postgresql+psycopg://postgres@/{args.a_db}?host={args.socket_dir}"
    b_url = f"postgresql+psycopg://postgres@/{args.b_db}?host={args.socket_dir}"
    print(f"ready: {args.a_db} and {args.b_db} cloned from {args.seed_db}. Start the servers, e.g.\n"
          f"  REF_DB_URLS='[{{\"url\": \"{a_url}\", \"schema\": \"ai\", \"id\": \"{DB_ID}\"}}]' "
          f"{args.agno_python} -m uvicorn tests.contract.reference_app:app --host 127.0.0.1 --port 7791\n"
          f"  AGNO_PG_DSN='{b_url}' AGNO_DB_ID='{DB_ID}' AGNO_WORKERS=1 AGNO_THREADS=4 "
          f"AGNO_SERVICE_HOST=127.0.0.1 AGNO_SERVICE_PORT=7792 PYTHONPATH=. /tmp/venv/bin/python -m service.cli serve")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: `setup` prepares the databases, `run` compares; exit 1 on any unexpected mismatch."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    st = sub.add_parser("setup", help="(re)create the seed template and the two database copies")
    st.add_argument("--admin-dsn", default=ADMIN_DSN, help="libpq URL used for CREATE/DROP DATABASE")
    st.add_argument("--socket-dir", default=SOCKET_DIR)
    st.add_argument("--agno-python", default="/tmp/agno/bin/python", help="python of the venv with agno 3.1.10")
    st.add_argument("--seed-db", default=SEED_DB)
    st.add_argument("--a-db", default=A_DB)
    st.add_argument("--b-db", default=B_DB)
    rn = sub.add_parser("run", help="replay the write corpus against A and B")
    rn.add_argument("--a", required=True, help="reference base URL (the real AgentOS on --a-dsn)")
    rn.add_argument("--b", required=True, help="candidate base URL (agno-session on --b-dsn)")
    rn.add_argument("--a-dsn", default=libpq(A_DB), help="libpq URL of A's database (default: %(default)s)")
    rn.add_argument("--b-dsn", default=libpq(B_DB), help="libpq URL of B's database (default: %(default)s)")
    rn.add_argument("--requests", type=Path, default=HERE / "writes.txt")
    rn.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="value for {{NAME}}; DB_ID defaults to A's /config databases[0]")
    rn.add_argument("--headers", default=",".join(replay.DEFAULT_COMPARED_HEADERS))
    rn.add_argument("--grep", default=None, help="only requests whose 'METHOD TARGET<TAB>BODY' contains this")
    rn.add_argument("--strict", action="store_true", help="count `# known:` deviations as failures too")
    rn.add_argument("-v", "--verbose", action="store_true", help="list passing requests and dump bodies")
    args = ap.parse_args(argv)
    if args.command == "setup":
        setup(args)
        return 0
    variables = dict(v.split("=", 1) for v in args.var if "=" in v)
    text = args.requests.read_text(encoding="utf-8")
    if "{{DB_ID}}" in text and "DB_ID" not in variables:
        found = replay.discover_db_id(args.a)
        if not found:
            print(f"cannot read DB_ID from {args.a}/config; pass --var DB_ID=...", file=sys.stderr)
            return 2
        variables["DB_ID"] = found
    try:
        requests = replay.parse_corpus(text, str(args.requests), variables)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.grep:
        requests = [r for r in requests
                    if args.grep in f"{r.method} {r.target}\t{(r.body or b'').decode('utf-8', 'replace')}"]
    headers = tuple(h.strip().lower() for h in args.headers.split(",") if h.strip())
    a, b = Side("A", args.a, args.a_dsn), Side("B", args.b, args.b_dsn)
    outcomes = run_all(requests, a, b, Tables(), known_notes(text, str(args.requests)), headers, args.verbose)
    failing = [o for o in outcomes if o.problems and (args.strict or not o.known)]
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
