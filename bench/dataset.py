"""A deterministic, realistic benchmark dataset in agno 3.1.10's row shapes, bulk-loaded with COPY.

Usage: python -m bench.dataset --dsn postgresql://... [--sessions 20000] [--seed 12] [--extension-data]
Sessions are 70% agent, 20% team, 10% workflow; 60% carry a stored name (0.5% of those contain the search
word "quasar"); ~20 sessions per user; 1-8 runs each (mean 4.5) of 2-13 kB with agno's message, metrics and
step shapes. The same arguments always write the same rows, so two servers (and two runs) see equal data.
--extension-data adds what the extensions' benchmark (bench/extensions.py) reads: three long agent sessions
(LONG_RUNS: 50, 5,000 and 50,000 runs of ~1.5 kB) and a `tier` key in every generated session's metadata.
--light-runs writes the same session rows but one small run (~1.5 kB) per session instead of 1-8 of 2-13 kB:
a dataset for what depends on the number of sessions (list pages), loaded in minutes at 1M sessions, not in over
an hour (its run figures are not the full dataset's).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator
from typing import Any

import psycopg2

T0 = 1767225600  # 2026-01-01T00:00:00Z
SEARCH_WORD = "quasar"
MODEL = {"id": "gpt-4o", "name": "OpenAIChat", "provider": "OpenAI"}
AGENT_DATA = {"name": "Basic Agent", "agent_id": "basic-agent", "model": MODEL}
TEAM_DATA = {"name": "Research Team", "team_id": "research-team", "model": MODEL}
WF_DATA = {"workflow_id": "content-workflow", "name": "Content Workflow",
           "steps": [{"name": "write", "description": None, "type": "Step"}]}
WORDS = ("plan", "trip", "report", "budget", "review", "draft", "summary", "market", "launch", "query", "data",
         "model", "travel", "invoice", "design", "schema", "deploy", "meeting", "notes", "research", "paper",
         "product", "customer", "support", "ticket", "weather", "recipe", "contract", "hiring", "metrics")
CORPUS: dict[str, str] = {}  # built on first use, not at import
SESSION_COLUMNS = ("session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
                   "agent_data", "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at")
RUN_COLUMNS = ("run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
               "parent_run_id", "status", "run_index", "run_data", "created_at", "updated_at")


def session_type(i: int) -> str:
    """70% agent, 20% team, 10% workflow, interleaved so every page mixes them."""
    return "agent" if i % 10 < 7 else "team" if i % 10 < 9 else "workflow"


def user_of(i: int, sessions: int) -> str:
    """~20 sessions per user, spread evenly and deterministically."""
    return f"user-{(i * 7919) % max(1, sessions // 20):06d}"


def corpus(seed: int) -> str:
    """64 kB of prose-like words, the pool every text is cut from."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(10_000))


def text(rng: random.Random, size: int) -> str:
    """About `size` characters of prose cut from the corpus at a random word boundary (cheap at 1M sessions)."""
    pool = CORPUS.get("text") or CORPUS.setdefault("text", corpus(0))
    start = pool.find(" ", rng.randrange(0, len(pool) - size - 1)) + 1
    return pool[start:start + size].rstrip()


def message(mid: str, role: str, content: Any, at: int, **extra: Any) -> dict:
    """A stored agno message dict."""
    return {"id": mid, "role": role, "content": content, "created_at": at, **extra}


def chat(rng: random.Random, run_id: str, at: int, size: int, system: bool) -> tuple[str, list[dict]]:
    """A prompt and the system/user/assistant messages of a completed run, about `size` bytes in all."""
    prompt = text(rng, rng.randint(40, 400))
    usage = {"input_tokens": rng.randint(20, 900), "output_tokens": rng.randint(10, 700)}
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    out = [message(f"{run_id}-sys", "system", "You are a helpful assistant.", at)] if system else []
    out.append(message(f"{run_id}-usr", "user", prompt, at))
    out.append(message(f"{run_id}-ast", "assistant", text(rng, max(100, (size - 2 * len(prompt) - 900) // 2)), at + 1,
                       metrics=usage))
    return prompt, out


def run_data(rng: random.Random, kind: str, run_id: str, sid: str, user: str, at: int, size: int = 0) -> dict:
    """One run's run_data as agno stores it (agent, team leader or workflow run), of about `size` bytes (by
    default 2-13 kB, drawn)."""
    size = size or rng.randint(2000, 13000)
    status = "COMPLETED" if rng.random() < 0.95 else "ERROR"
    metrics = {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30, "duration": round(rng.random() * 5, 3)}
    if kind == "workflow":
        prompt, msgs = chat(rng, f"{run_id}-s1", at + 1, size, system=True)
        step_run = {"run_id": f"{run_id}-s1", "agent_id": "basic-agent", "agent_name": "Basic Agent",
                    "workflow_id": "content-workflow", "session_id": sid, "parent_run_id": run_id,
                    "status": status, "created_at": at + 1, "input": {"input_content": prompt},
                    "content": msgs[-1]["content"], "messages": msgs}
        return {"run_id": run_id, "workflow_id": "content-workflow", "workflow_name": "Content Workflow",
                "session_id": sid, "user_id": user, "input": prompt, "content": "done", "status": status,
                "created_at": at,
                "step_results": [{"step_name": "write", "step_id": f"{run_id}-step", "step_type": "Step",
                                  "executor_type": "agent", "executor_name": "Basic Agent", "content": "done",
                                  "success": status == "COMPLETED", "metrics": {"duration": 1.5}}],
                "step_executor_runs": [step_run]}
    prompt, msgs = chat(rng, run_id, at, size, system=kind == "agent")
    owner = ({"agent_id": "basic-agent", "agent_name": "Basic Agent"} if kind == "agent"
             else {"team_id": "research-team", "team_name": "Research Team"})
    return {"run_id": run_id, **owner, "session_id": sid, "user_id": user, "input": {"input_content": prompt},
            "content": msgs[-1]["content"], "model": "gpt-4o", "model_provider": "OpenAI", "status": status,
            "created_at": at, "messages": msgs, "metrics": metrics}


def session_row(rng: random.Random, i: int, sessions: int, runs: int) -> dict:
    """One session row; JSON columns as agno's PostgresDb writes them for the type."""
    kind = session_type(i)
    created = T0 - (sessions - i) * 60 - rng.randint(0, 59)
    named = rng.random() < 0.6
    name = None
    if named:
        words = [rng.choice(WORDS) for _ in range(3)]
        if rng.random() < 0.005:
            words.insert(1, SEARCH_WORD)
        name = f"{' '.join(words).capitalize()} {i}"
    state = {"step": rng.randint(0, 9), "tags": [rng.choice(WORDS) for _ in range(3)]}
    data: dict[str, Any] = {"session_name": name} if name else {}
    data["session_state"] = state
    if kind != "workflow":
        data["session_metrics"] = {"input_tokens": 40 * runs, "output_tokens": 20 * runs, "total_tokens": 60 * runs}
    row = dict.fromkeys(SESSION_COLUMNS)
    row |= {"session_id": f"bench-{i:07d}", "session_type": kind, "user_id": user_of(i, sessions),
            "session_data": data, "created_at": created, "updated_at": created + 30 * runs}
    if kind == "agent":
        row |= {"agent_id": "basic-agent", "agent_data": AGENT_DATA, "metadata": None}
    elif kind == "team":
        row |= {"team_id": "research-team", "team_data": TEAM_DATA}
    else:
        row |= {"workflow_id": "content-workflow", "workflow_data": WF_DATA, "metadata": {}}
    if rng.random() < 0.2:
        row["summary"] = {"summary": text(rng, 200), "topics": [rng.choice(WORDS)], "updated_at": None}
    return row


def run_rows(rng: random.Random, session: dict, count: int, size: int = 0) -> Iterator[dict]:
    """The session's `count` run rows, 30 s apart from its creation (each about `size` bytes; default drawn)."""
    kind, sid, user = session["session_type"], session["session_id"], session["user_id"]
    for n in range(count):
        run_id = f"{sid}-r{n}"
        at = session["created_at"] + 30 * n
        data = run_data(rng, kind, run_id, sid, user, at, size)
        yield {"run_id": run_id, "session_id": sid, "run_type": kind, "agent_id": data.get("agent_id"),
               "team_id": data.get("team_id"), "workflow_id": data.get("workflow_id"), "user_id": user,
               "parent_run_id": None, "status": data["status"], "run_index": n, "run_data": data, "created_at": at,
               "updated_at": at}


LIGHT_RUN_BYTES = 300  # --light-runs: the answer at its 100-character floor; with the prompt, 0.95-2.5 kB a run


def rows(sessions: int, seed: int, light: bool = False) -> Iterator[tuple[dict, list[dict]]]:
    """Every session with its run rows, in id order, from one seeded generator. `light`: the same sessions, each
    with one small run `{session_id}-r0` from a second generator instead (the full runs are still drawn, unwritten,
    so that every session row stays the full dataset's)."""
    rng, light_rng = random.Random(seed), random.Random(seed * 1000 + 3)
    for i in range(sessions):
        count = rng.randint(1, 8)
        session = session_row(rng, i, sessions, count)
        runs = list(run_rows(rng, session, count))
        yield session, list(run_rows(light_rng, session, 1, LIGHT_RUN_BYTES)) if light else runs


# The extension data (--extension-data): long sessions by run count, and metadata tiers with a skewed spread.
LONG_RUNS = (50, 5_000, 50_000)
LONG_RUN_BYTES = 1500
TIERS = (("gold", 2), ("silver", 3), ("bronze", 4), ("free", 7))  # (value, sixteenths of the sessions)


def long_session_id(runs: int) -> str:
    """The id of the long session with `runs` runs."""
    return f"bench-long-{runs}"


def long_rows(sessions: int, seed: int) -> Iterator[tuple[dict, list[dict]]]:
    """The long agent sessions (one per LONG_RUNS), runs of ~1.5 kB; the runs come in slices of 2,000 so that a
    50,000-run session never sits in memory whole (the same session row with each slice)."""
    rng = random.Random(seed * 1000 + 7)
    for count in LONG_RUNS:
        session = session_row(rng, 0, sessions, count) | {"session_id": long_session_id(count),
                                                          "user_id": "user-long"}
        session["session_data"] = session["session_data"] | {"session_name": f"Long session of {count} runs"}
        runs = run_rows(rng, session, count, LONG_RUN_BYTES)
        while chunk := list(itertools.islice(runs, 2000)):
            yield session, chunk


def tier_sql(schema: str) -> str:
    """The UPDATE that gives every generated session `metadata = {"tier": ...}`: a multiplicative hash of the
    session's number picks one of 16 slots (deterministic, unrelated to type, user or age), TIERS share them."""
    slot = "((substring(session_id FROM 7)::bigint * 2654435761) % 4294967296) / 268435456"
    cases, upto = [], 0
    for value, sixteenths in TIERS:
        upto += sixteenths
        cases.append(f"WHEN {slot} < {upto} THEN '{value}'")
    return (f"UPDATE {schema}.agno_sessions SET metadata = jsonb_build_object('tier', CASE {' '.join(cases)} END) "
            "WHERE session_id ~ '^bench-[0-9]+$'")


def drop_long_sessions(cur: Any, schema: str) -> None:
    """Remove the long sessions and their runs."""
    cur.execute(f"DELETE FROM {schema}.agno_runs WHERE session_id LIKE 'bench-long-%'")
    cur.execute(f"DELETE FROM {schema}.agno_sessions WHERE session_id LIKE 'bench-long-%'")


def retract(dsn: str, schema: str = "ai") -> None:
    """Take the extension data out of a loaded dataset: no long sessions, every generated session's metadata as
    session_row writes it (SQL NULL, `{}` for workflows)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        drop_long_sessions(cur, schema)
        cur.execute(f"UPDATE {schema}.agno_sessions SET metadata = CASE WHEN session_type = 'workflow' "
                    "THEN '{}'::jsonb END WHERE session_id ~ '^bench-[0-9]+$'")
        cur.execute(f"VACUUM ANALYZE {schema}.agno_sessions")
        cur.execute(f"VACUUM ANALYZE {schema}.agno_runs")
    conn.close()


def extend(dsn: str, sessions: int, seed: int, schema: str = "ai") -> dict:
    """Add the extension data to a loaded dataset (the long sessions replaced if there); returns its counts."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    started, n_runs = time.monotonic(), 0
    with conn.cursor() as cur:
        drop_long_sessions(cur, schema)
        print("  extension data: metadata tiers", file=sys.stderr, flush=True)
        cur.execute(tier_sql(schema))
        written: set[str] = set()
        for session, runs in long_rows(sessions, seed):
            if session["session_id"] not in written:
                copy(cur, f"{schema}.agno_sessions", SESSION_COLUMNS, [session])
                written.add(session["session_id"])
            copy(cur, f"{schema}.agno_runs", RUN_COLUMNS, runs)
            n_runs += len(runs)
            print(f"  extension data: {n_runs}/{sum(LONG_RUNS)} long-session runs "
                  f"({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
        cur.execute(f"VACUUM ANALYZE {schema}.agno_sessions")
        cur.execute(f"VACUUM ANALYZE {schema}.agno_runs")
    conn.close()
    return {"long_sessions": len(LONG_RUNS), "long_runs": n_runs,
            "extend_seconds": round(time.monotonic() - started, 1)}


def csv_value(value: Any) -> Any:
    """COPY CSV: dicts as JSON text, None as the unquoted empty field COPY reads as NULL."""
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def copy(cur: Any, table: str, columns: tuple[str, ...], batch: list[dict]) -> None:
    """COPY one batch of rows into `table`."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in batch:
        writer.writerow([csv_value(row[c]) for c in columns])
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)


def load(dsn: str, sessions: int, seed: int, schema: str = "ai", batch_size: int = 2000, light: bool = False,
         source: Iterator[tuple[dict, list[dict]]] | None = None) -> dict:
    """Empty agno's tables in `dsn` and load the dataset (`light`: one small run per session; `source`: other rows,
    each session with its runs, e.g. bench.search_data's); returns its counts. Tables must exist."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    started, n_runs = time.monotonic(), 0
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {schema}.agno_runs, {schema}.agno_sessions")
        s_batch: list[dict] = []
        r_batch: list[dict] = []
        for done, (session, runs) in enumerate(source or rows(sessions, seed, light), 1):
            s_batch.append(session)
            r_batch.extend(runs)
            n_runs += len(runs)
            if len(s_batch) >= batch_size or done == sessions:
                copy(cur, f"{schema}.agno_sessions", SESSION_COLUMNS, s_batch)
                copy(cur, f"{schema}.agno_runs", RUN_COLUMNS, r_batch)
                s_batch, r_batch = [], []
                print(f"  dataset: {done}/{sessions} sessions, {n_runs} runs "
                      f"({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
        cur.execute(f"VACUUM ANALYZE {schema}.agno_sessions")
        cur.execute(f"VACUUM ANALYZE {schema}.agno_runs")
    conn.close()
    return {"sessions": sessions, "runs": n_runs, "seed": seed, "light_runs": light,
            "load_seconds": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    """Load the dataset into an existing agno schema."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", required=True, help="libpq DSN of a database whose agno tables exist")
    ap.add_argument("--sessions", type=int, default=20_000, help="1 to 1,000,000")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--schema", default="ai")
    ap.add_argument("--extension-data", action="store_true",
                    help="also the long sessions and the metadata tiers the extensions' benchmark reads")
    ap.add_argument("--light-runs", action="store_true",
                    help="one small run per session instead of 1-8 of 2-13 kB (the same sessions; loads in minutes)")
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= 1_000_000:
        ap.error("--sessions must be between 1 and 1,000,000")
    counts = load(args.dsn, args.sessions, args.seed, args.schema, light=args.light_runs)
    if args.extension_data:
        counts |= extend(args.dsn, args.sessions, args.seed, args.schema)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
