"""The search benchmark's dataset: bench.dataset's session rows (the same ids, types, users and stored names, so
AgentOS's name filter finds the same sessions), each with 1-9 agent/team runs of one user and one assistant message
(mean 5 runs: ~10 searchable messages a session), whose words follow a Zipf law over a 50,000-word vocabulary as
natural text does, so a query word can be common (in a tenth of all messages) or rare (in a few dozen).

Usage: python -m bench.search_data --dsn postgresql://... [--sessions 1000000] [--seed 12]
Workflow sessions keep bench.dataset's one step-executor run (their messages are not in chat_history).
Query words are chosen by vocabulary rank (`word_at`), the same for every load of a seed.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Iterator

from . import dataset
from .dataset import run_data, session_row

VOCABULARY = 50_000
ZIPF_S = 1.07  # the exponent measured on English text
CORPUS_WORDS = 4_000_000
ONSETS = ("b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "cl",
          "dr", "fl", "gr", "pl", "st", "tr", "sh", "ch", "th", "qu")
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou", "y")
CODAS = ("", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck")


def vocabulary(seed: int) -> list[str]:
    """VOCABULARY distinct pronounceable words, shortest first (frequent words are short in natural text)."""
    rng = random.Random(seed)
    words: dict[str, None] = {}
    syllables = 1
    while len(words) < VOCABULARY:
        for _ in range(VOCABULARY * 2):
            word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))
            words.setdefault(word)
            if len(words) >= VOCABULARY:
                break
        syllables += 1
    return list(words)


class Corpus:
    """A long Zipf-distributed word stream cut into message texts at random offsets."""

    def __init__(self, seed: int) -> None:
        self.words = vocabulary(seed)
        rng = random.Random(seed + 1)
        weights = list(itertools.accumulate(1 / (rank ** ZIPF_S) for rank in range(1, VOCABULARY + 1)))
        self.stream = rng.choices(self.words, cum_weights=weights, k=CORPUS_WORDS)

    def text(self, rng: random.Random, low: int, high: int) -> str:
        """Between `low` and `high` words of the stream."""
        count = rng.randint(low, high)
        start = rng.randrange(0, CORPUS_WORDS - count)
        return " ".join(self.stream[start:start + count])

    def word_at(self, rank: int) -> str:
        """The vocabulary's word of frequency rank `rank` (1: the most frequent)."""
        return self.words[rank - 1]


def search_runs(rng: random.Random, corpus: Corpus, session: dict) -> list[dict]:
    """The session's runs: 1-9 chats of one user and one assistant message (workflows: one step run)."""
    kind, sid, user = session["session_type"], session["session_id"], session["user_id"]
    count = 1 if kind == "workflow" else rng.randint(1, 9)
    out = []
    for n in range(count):
        run_id, at = f"{sid}-r{n}", session["created_at"] + 30 * n
        data = run_data(rng, kind, run_id, sid, user, at, 2000)
        if kind != "workflow":
            prompt, answer = corpus.text(rng, 5, 25), corpus.text(rng, 15, 60)
            data["messages"] = [m for m in data["messages"] if m["role"] == "system"] + [
                {"id": f"{run_id}-usr", "role": "user", "content": prompt, "created_at": at},
                {"id": f"{run_id}-ast", "role": "assistant", "content": answer, "created_at": at + 1}]
            data["input"], data["content"] = {"input_content": prompt}, answer
        out.append({"run_id": run_id, "session_id": sid, "run_type": kind, "agent_id": data.get("agent_id"),
                    "team_id": data.get("team_id"), "workflow_id": data.get("workflow_id"), "user_id": user,
                    "parent_run_id": None, "status": data["status"], "run_index": n, "run_data": data,
                    "created_at": at, "updated_at": at})
    return out


def rows(sessions: int, seed: int) -> Iterator[tuple[dict, list[dict]]]:
    """Every session with its runs, in id order, from seeded generators (session rows as bench.dataset's)."""
    rng, text_rng, corpus = random.Random(seed), random.Random(seed * 1000 + 11), Corpus(seed)
    for i in range(sessions):
        count = rng.randint(1, 8)
        session = session_row(rng, i, sessions, count)
        for _ in range(count):  # bench.dataset draws its runs here: drawn and dropped, the session rows stay its
            run_data(rng, "agent", "x", "x", "x", 0)
        yield session, search_runs(text_rng, corpus, session)


def load(dsn: str, sessions: int, seed: int, schema: str = "ai") -> dict:
    """Empty agno's tables in `dsn` and load the dataset (bench.dataset's loader); returns its counts."""
    counts = dataset.load(dsn, sessions, seed, schema, batch_size=5000, source=rows(sessions, seed))
    return {k: v for k, v in counts.items() if k != "light_runs"}


def main(argv: list[str] | None = None) -> int:
    """Load the dataset into an existing agno schema."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", required=True, help="libpq DSN of a database whose agno tables exist")
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--schema", default="ai")
    args = ap.parse_args(argv)
    print(load(args.dsn, args.sessions, args.seed, args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
