"""The search benchmark (issue 20): message search and the list's `q=` on a dataset of about ten messages a session
(bench.search_data), beside AgentOS's only search, its `session_name` substring filter, on the same database.

Usage: python -m bench.search [--sessions 1000000] [--seed 12] [--queries 40] [--prepare-only] [--out DIR]
The database (a cluster under <out>/pg*-search-<sessions>) is loaded once per size and seed; `agno-session migrate
--search` then builds the index (its time is reported the first time). Each query class sends --queries different
queries one after another (single client: the latency a person waiting for a search sees) to agno-session and
reports p50/p95/max, the hits of the first page and the document frequency of a sample of the words. Every answer
must say `Agno-Search-Mode: index`. The report goes to <out>/search-<sessions>.md and .json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import psycopg2

from tests.support.servers import Server

from . import postgres as bench_postgres
from . import search_data, sidebyside
from .dataset import SEARCH_WORD
from .sidebyside import REPO, log

DATASET_VERSION = 1  # bump when bench/search_data.py's rows change: a cached database is reloaded
TARGETS_MS = {"words": 50.0, "phrase": 150.0}


@dataclass(frozen=True)
class QueryClass:
    """One kind of query: how its words are drawn and which target (if any) its p95 answers to."""

    name: str
    target: str  # "words", "phrase" or "" (reported, no target)
    note: str


CLASSES = (
    QueryClass("rare word", "words", "one word of vocabulary rank 20,000-50,000"),
    QueryClass("uncommon word", "words", "one word of rank 2,000-5,000"),
    QueryClass("medium word", "words", "one word of rank 200-500"),
    QueryClass("two words", "words", "a rank 200-500 word and a rank 2,000-5,000 word (both must match)"),
    QueryClass("common word", "words", "one word of rank 10-50 (in several percent of all messages)"),
    QueryClass("phrase", "phrase", "2-3 consecutive words of the text, mode=phrase"),
    QueryClass("prefix", "", "the first 4 letters of a rank 2,000-5,000 word, mode=prefix"),
    QueryClass("list q=", "", "GET /sessions?type=agent&q=<rank 2,000-5,000 word>: the list filtered to matching "
                              "sessions, with its total count"),
)


def queries(corpus: search_data.Corpus, kind: str, count: int, seed: int) -> list[str]:
    """`count` request paths of one class (deterministic per seed)."""
    rng = random.Random(f"{seed}-{kind}")

    def word(low: int, high: int) -> str:
        return corpus.word_at(rng.randint(low, high))

    out = []
    for _ in range(count):
        if kind == "rare word":
            params = {"q": word(20_000, 50_000)}
        elif kind == "uncommon word":
            params = {"q": word(2_000, 5_000)}
        elif kind == "medium word":
            params = {"q": word(200, 500)}
        elif kind == "two words":
            params = {"q": f"{word(200, 500)} {word(2_000, 5_000)}"}
        elif kind == "common word":
            params = {"q": word(10, 50)}
        elif kind == "phrase":
            start = rng.randrange(0, search_data.CORPUS_WORDS - 3)
            params = {"q": " ".join(corpus.stream[start:start + rng.randint(2, 3)]), "mode": "phrase"}
        elif kind == "prefix":
            params = {"q": word(2_000, 5_000)[:4], "mode": "prefix"}
        else:
            out.append("/sessions?" + urlencode({"type": "agent", "q": word(2_000, 5_000)}))
            continue
        out.append("/sessions/-/search?" + urlencode(params))
    return out


def timed(server: Server, paths: list[str], check_mode: bool) -> dict:
    """The paths one after another: latency percentiles and the first page's hit counts."""
    latencies, hits = [], []
    for path in paths:
        started = time.perf_counter()
        status, headers, body = server.request("GET", path, timeout=120)
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"{server.name} answered {status} to {path}: {body[:300]!r}")
        if check_mode and headers.get("agno-search-mode") != "index":
            raise SystemExit(f"{path} was not answered from the index: {headers.get('agno-search-mode')}")
        hits.append(len(json.loads(body)["data"]))
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"requests": len(paths), "p50_ms": statistics.median(latencies), "p95_ms": p95, "max_ms": ordered[-1],
            "mean_hits": statistics.mean(hits), "empty": sum(1 for h in hits if h == 0)}


def frequencies(dsn: str, corpus: search_data.Corpus, seed: int) -> dict[str, float]:
    """Median number of indexed messages matching a sample of 3 words of each word class (the index counts)."""
    conn = psycopg2.connect(dsn)
    out = {}
    with conn.cursor() as cur:
        for kind in ("rare word", "uncommon word", "medium word", "common word"):
            counts = []
            for path in queries(corpus, kind, 3, seed):
                word = path.split("q=")[1]
                cur.execute("SELECT count(*) FROM ai.agno_sessions_svc_search "
                            "WHERE document @@ plainto_tsquery('simple', %s)", (word,))
                counts.append(cur.fetchone()[0])
            out[kind] = statistics.median(counts)
    conn.close()
    return out


def prepare(dsn: str, sessions: int, seed: int) -> dict:
    """agno's tables, the service's indexes and the dataset (unless already loaded), then the search index; what
    was loaded and built, with times."""
    env = sidebyside.service_env(dsn) | {"AGNO_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "service.cli", "migrate", "--indexes"], check=True, cwd=REPO,
                   capture_output=True, env=env)
    marker = {"search_dataset": DATASET_VERSION, "sessions": sessions, "seed": seed}
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    facts: dict = {}
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS public.bench_meta (marker jsonb)")
        cur.execute("SELECT marker FROM public.bench_meta")
        found = cur.fetchone()
        if not found or found[0] != marker:
            log(f"loading the search dataset: {sessions} sessions (seed {seed})")
            cur.execute("DELETE FROM public.bench_meta")
            subprocess.run([sys.executable, "-m", "service.cli", "migrate", "--drop-search"], check=True, cwd=REPO,
                           env=env)
            facts["load"] = search_data.load(dsn, sessions, seed)
            cur.execute("INSERT INTO public.bench_meta VALUES (%s)", (json.dumps(marker),))
        log("agno-session migrate --search (a complete index is only checked)")
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "service.cli", "migrate", "--search"], check=True, cwd=REPO, env=env)
        facts["migrate_search_seconds"] = round(time.monotonic() - started, 1)
        cur.execute("SELECT (SELECT count(*) FROM ai.agno_sessions), (SELECT count(*) FROM ai.agno_runs), "
                    "(SELECT count(*) FROM ai.agno_sessions_svc_search WHERE position >= 0), "
                    "pg_size_pretty(pg_total_relation_size('ai.agno_runs')), "
                    "pg_size_pretty(pg_total_relation_size('ai.agno_sessions_svc_search'))")
        facts |= dict(zip(("sessions", "runs", "indexed_messages", "runs_size", "search_index_size"),
                          cur.fetchone(), strict=True))
    conn.close()
    return facts


def name_filter(a: Server, b: Server, count: int) -> dict:
    """AgentOS's name filter (a substring of the stored name) on both servers: the only search AgentOS has."""
    words = [SEARCH_WORD, "plan", "trip", "budget"]
    paths = [f"/sessions?type=agent&session_name={words[i % len(words)]}" for i in range(count)]
    return {"AgentOS": timed(a, paths, False), "agno-session": timed(b, paths, False)}


def report(results: dict) -> str:
    """The markdown report."""
    facts = results["dataset"]
    lines = [f"# Search benchmark: {facts['sessions']:,} sessions, {facts['indexed_messages']:,} indexed messages",
             "", f"runs table {facts['runs_size']}, search index (table + indexes) {facts['search_index_size']}; "
             f"`migrate --search` took {facts['migrate_search_seconds']} s in this run"
             + (f" (dataset loaded in {facts['load']['load_seconds']} s)" if "load" in facts else ""), "",
             "| query | p50 ms | p95 ms | max ms | hits on page 1 (mean) | empty | target | verdict |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for cls in CLASSES:
        cell = results["classes"][cls.name]
        target = TARGETS_MS.get(cls.target)
        verdict = "" if target is None else ("met" if cell["p95_ms"] <= target else "missed")
        lines.append(f"| {cls.name} | {cell['p50_ms']:.1f} | {cell['p95_ms']:.1f} | {cell['max_ms']:.1f} | "
                     f"{cell['mean_hits']:.1f} | {cell['empty']} | {f'p95 ≤ {target:.0f} ms' if target else ''} "
                     f"| {verdict} |")
    for name, cell in results["name_filter"].items():
        lines.append(f"| name filter `session_name=` on {name} | {cell['p50_ms']:.1f} | {cell['p95_ms']:.1f} | "
                     f"{cell['max_ms']:.1f} | {cell['mean_hits']:.1f} | {cell['empty']} | | |")
    lines += ["", "Matching messages per word (median of 3 sampled words): "
              + ", ".join(f"{k} {v:,.0f}" for k, v in results["frequencies"].items()), "",
              "Query classes: " + "; ".join(f"**{c.name}**: {c.note}" for c in CLASSES), "",
              f"Started {results['meta']['started']}, load average {results['meta']['loadavg']}, "
              f"{results['meta']['queries']} queries per class, one client."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Prepare the database, start both servers, time every class, write the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--queries", type=int, default=40, help="queries per class")
    ap.add_argument("--prepare-only", action="store_true", help="load and index, measure nothing")
    ap.add_argument("--ref-python", default=str(REPO / ".venv-agentos/bin/python"))
    ap.add_argument("--out", default=str(REPO / "reports" / "bench"))
    args = ap.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    cluster = bench_postgres.start(Path(args.out), f"search-{args.sessions}", log)
    try:
        dsn = sidebyside.create_bench_database(cluster.socket_dir)
        facts = prepare(dsn, args.sessions, args.seed)
        log(f"dataset: {facts}")
        if args.prepare_only:
            return 0
        corpus = search_data.Corpus(args.seed)
        results = {"dataset": facts, "classes": {},
                   "meta": {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "queries": args.queries,
                            "loadavg": Path("/proc/loadavg").read_text().split()[0]}}
        with tempfile.TemporaryDirectory(prefix="agno-bench-search-") as tmp:
            a, b = sidebyside.start_servers(dsn, 1, 8, args.ref_python, Path(tmp))
            try:
                timed(b, queries(corpus, "uncommon word", 10, args.seed + 1), True)  # warm-up, other words
                for i, cls in enumerate(CLASSES, 1):
                    cell = timed(b, queries(corpus, cls.name, args.queries, args.seed), cls.name != "list q=")
                    results["classes"][cls.name] = cell
                    log(f"[{i}/{len(CLASSES)}] {cls.name}: p50 {cell['p50_ms']:.1f} ms, p95 {cell['p95_ms']:.1f} ms")
                log("AgentOS's name filter on both servers")
                results["name_filter"] = name_filter(a, b, max(8, args.queries // 4))
            finally:
                a.stop()
                b.stop()
        log("document frequencies of sampled words")
        results["frequencies"] = frequencies(dsn, corpus, args.seed)
        text = report(results)
        stem = Path(args.out) / f"search-{args.sessions}"
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2))
        stem.with_suffix(".md").write_text(text)
        print(text)
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
