"""agno 3.1.10's own run write, timed with a side table's triggers on the runs table (the search index's, the
change log's) enabled and disabled in alternating rounds:
`PostgresDb.upsert_run` of a completed agent RunOutput (a system prompt and 10 user/assistant messages of
40-80 words), each in its own transaction as AgentOS commits it after a run; two in three new runs, one in three
rewrites of an existing one (a status change, as background and HITL runs rewrite theirs).

Run with the agno venv (it imports agno, not the project); bench/search_trigger_cost.py starts it:
    python bench/agno_run_writer.py --url postgresql+psycopg://... --schema S --trigger T[,T2] --writes 300 --rounds 6
Prints one JSON line per round on stdout: {"round": n, "with_us": ..., "without_us": ..., "with_p95_us": ...,
"without_p95_us": ...} (median and 95th percentile of one write).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

from agno.db.postgres import PostgresDb
from agno.run.agent import RunOutput
from agno.run.base import RunStatus
from sqlalchemy import text

WORDS = ("invoice refund shipping order account password delivery warranty billing subscription upgrade cancel "
         "receipt address payment card bank transfer discount coupon support agent question answer issue ticket "
         "problem solved thanks please help").split()
T0 = 1767225600


def run_output(run_id: str, sid: str, rng: random.Random, at: int) -> RunOutput:
    """A completed agent run built from its stored shape, as agno's from_dict reads it back."""
    messages = [{"id": f"{run_id}-sys", "role": "system", "content": "You are a helpful support agent.",
                 "created_at": at}]
    for n in range(10):
        messages.append({"id": f"{run_id}-{n}", "role": "user" if n % 2 == 0 else "assistant", "created_at": at + n,
                         "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80))),
                         "metrics": {"input_tokens": 120, "output_tokens": 60, "total_tokens": 180}})
    return RunOutput.from_dict({
        "run_id": run_id, "agent_id": "agent-1", "agent_name": "Support", "session_id": sid, "user_id": "u1",
        "model": "gpt-4o", "model_provider": "OpenAI", "status": "COMPLETED", "created_at": at,
        "input": {"input_content": messages[1]["content"]}, "content": messages[-1]["content"],
        "messages": messages, "metrics": {"input_tokens": 1200, "output_tokens": 600, "total_tokens": 1800}})


class Writer:
    """agno's PostgresDb on the benchmark's tables, and the run writes one round makes."""

    def __init__(self, url: str, schema: str, sessions: int) -> None:
        self.db = PostgresDb(db_url=url, db_schema=schema, session_table="agno_sessions")
        self.schema, self.sessions, self.count = schema, sessions, 0
        self.rng = random.Random(20)
        self.written: list[tuple[RunOutput, str, int]] = []

    def round(self, writes: int) -> tuple[float, float]:
        """The median and 95th percentile microseconds of one upsert_run over `writes` of them (the runs built
        before the clock starts; the median, as a shared machine's pauses fall on single writes)."""
        batch = []
        for _ in range(writes):
            self.count += 1
            if self.count % 3 == 0 and self.written:
                run, sid, index = self.rng.choice(self.written)
                run.status = RunStatus.completed if run.status == RunStatus.paused else RunStatus.paused
            else:
                sid, index = f"s{self.count % self.sessions}", self.count
                run = run_output(f"r{self.count}", sid, self.rng, T0 + self.count)
                self.written.append((run, sid, index))
            batch.append((run, sid, index))
        times = []
        for run, sid, index in batch:
            started = time.perf_counter()
            self.db.upsert_run(run, sid, "u1", index)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6, statistics.quantiles(times, n=20)[-1] * 1e6

    def trigger(self, names: str, enabled: bool) -> None:
        """Enable or disable the named triggers on the runs table (comma-separated; agno's table keeps every other
        trigger)."""
        verb = "ENABLE ALWAYS" if enabled else "DISABLE"
        with self.db.db_engine.begin() as conn:
            for name in names.split(","):
                conn.execute(text(f'ALTER TABLE "{self.schema}".agno_runs {verb} TRIGGER "{name}"'))


def main() -> None:
    """Warm up, then alternate rounds with and without the trigger (which goes first alternates too)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="SQLAlchemy URL, postgresql+psycopg://...")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--trigger", required=True)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--writes", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # agno's own output must not be taken for a result
    writer = Writer(args.url, args.schema, args.sessions)
    writer.round(max(30, args.writes // 5))
    try:
        for n in range(args.rounds):
            times = {}
            for enabled in (n % 2 == 0, n % 2 != 0):
                writer.trigger(args.trigger, enabled)
                times[enabled] = writer.round(args.writes)
            out.write(json.dumps({"round": n + 1, "with_us": times[True][0], "without_us": times[False][0],
                                  "with_p95_us": times[True][1], "without_p95_us": times[False][1]}) + "\n")
            out.flush()
    finally:
        writer.trigger(args.trigger, True)


if __name__ == "__main__":
    main()
