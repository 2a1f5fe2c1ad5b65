"""AgentOS 3.1.10's own session writes made in process, for bench/trigger_instructions.py to count PostgreSQL's
instructions (or CPU time) per write: the real AgentOS app (tests/contract/reference_app.py) served through
Starlette's TestClient, so each route runs its own code and statements without an HTTP server, and agno's
`upsert_session` / run write called as bench/agno_session_timer.py calls them. Every connection it opens carries
application_name APP_NAME, which is how its PostgreSQL backends are found.

Run with the agno venv, from the repository root (PYTHONPATH=.):
    python bench/agentos_write_driver.py '<plan JSON>'
plan: {"url": SQLAlchemy URL, "dsn": libpq DSN, "schema", "write": one of WRITES, "count": writes in all,
"timed_from": index of the first write whose backend CPU time is read (null: none), "ids": the sessions each write
consumes (a list per write), "pool": sessions renamed and patched, "tag": unique per run}. Answers one JSON line:
{"backends": [pids], "cpu_ns": [the backends' CPU nanoseconds of each timed write]}.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

APP_NAME = "agno-counted-writes"
RUN_BASE = 10**6  # run numbers of one process start at tag * RUN_BASE: every upsert_run inserts a new run


def backends(dsn: str) -> list[int]:
    """The pids of this process's PostgreSQL backends (its connections are the only ones named APP_NAME)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,)).fetchall()
    return sorted(pid for (pid,) in rows)


def cpu_ns(pids: list[int]) -> int:
    """The backends' time on a CPU so far (the kernel's schedstat, in nanoseconds)."""
    return sum(int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) for pid in pids)


def writes(plan: dict) -> dict[str, Callable[[int], None]]:
    """Each write by name: one call makes the k-th write."""
    from fastapi.testclient import TestClient

    os.environ["REF_DB_URLS"] = json.dumps([{"url": plan["url"], "schema": plan["schema"]}])
    from tests.contract.reference_app import app

    client = TestClient(app)
    pool, ids, tag = plan["pool"], plan["ids"], plan["tag"]

    def call(method: str, path: str, body: object, expect: int) -> None:
        answer = client.request(method, path, json=body)
        if answer.status_code != expect:
            sys.exit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")

    sessions = None

    def agno(name: str) -> Callable[[int], None]:
        def write(k: int) -> None:
            nonlocal sessions
            if sessions is None:
                from agno_session_timer import Sessions  # same directory: on the path of a script run from it

                sessions = Sessions(plan["url"], plan["schema"], 20)
                sessions.runs = tag * RUN_BASE
            getattr(sessions, name)()
        return write

    return {
        "create": lambda k: call("POST", "/sessions?type=agent", {
            "session_id": f"counted-{tag}-{k}", "session_name": "New chat", "session_state": {"step": 0},
            "user_id": "u1", "agent_id": "basic-agent", "metadata": {"channel": "web"}}, 201),
        "rename": lambda k: call("POST", f"/sessions/{pool[k % len(pool)]}/rename?type=agent",
                                 {"session_name": f"Renamed {tag}-{k}"}, 200),
        "patch": lambda k: call("PATCH", f"/sessions/{pool[k % len(pool)]}?type=agent",
                                {"session_state": {"step": k}, "metadata": {"channel": "web", "n": k}}, 200),
        "delete": lambda k: call("DELETE", f"/sessions/{ids[k][0]}", None, 204),
        "bulk_delete": lambda k: call("DELETE", "/sessions", {"session_ids": ids[k],
                                                              "session_types": ["agent"] * len(ids[k])}, 204),
        "upsert_session": agno("upsert_session"),
        "run_write": agno("after_run"),
    }


def main() -> None:
    """Make the plan's writes; print the backends that served them and the timed writes' CPU time."""
    plan = json.loads(sys.argv[1])
    separator = "&" if "?" in plan["url"] else "?"
    plan["url"] += f"{separator}application_name={APP_NAME}"
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # AgentOS's and agno's own output must not be taken for the answer
    write = writes(plan)[plan["write"]]
    timed_from, spent, pids = plan["timed_from"], [], []
    for k in range(plan["count"]):
        if timed_from is not None and k >= timed_from:
            pids = pids or backends(plan["dsn"])
            before = cpu_ns(pids)
            write(k)
            spent.append(cpu_ns(pids) - before)
        else:
            write(k)
    found = backends(plan["dsn"])
    if pids and found != pids:
        sys.exit(f"the backends changed while timing: {pids} then {found}")
    out.write(json.dumps({"backends": found, "cpu_ns": spent}) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
