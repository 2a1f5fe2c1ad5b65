"""1000 concurrent requests from 10 users through a real gunicorn in JWT mode: no caller ever sees, counts or
changes another user's rows."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.jwt_tokens import hs, hs_secret
from tests.support.rows import Rows
from tests.support.servers import serving

USERS = [f"user-{i}" for i in range(10)]
PER_USER = 4
REQUESTS = 1000


@pytest.fixture
def seeded(make_app, pg_dsn):
    """Tables migrated (and emptied) by make_app; each user owns PER_USER sessions with one run each."""
    make_app()
    rows = Rows(pg_dsn)
    for user in USERS:
        for n in range(PER_USER):
            sid = f"{user}-s{n}"
            rows.session(sid, user_id=user, session_data={"session_name": f"{user} {n}", "session_state": {}})
            rows.run(sid, {"run_id": f"{sid}-r", "agent_id": "ag", "status": "COMPLETED",
                           "messages": [{"role": "user", "content": f"private to {user}"}]}, user_id=user)
    yield rows
    rows.close()


def plan(rng: random.Random, secret: str) -> list[tuple[str, str, str, object, dict]]:
    """(user, method, path, body, headers): reads and writes on own and foreign sessions, in random order."""
    tokens = {u: {"Authorization": f"Bearer {hs(secret, sub=u)}"} for u in USERS}
    calls = []
    for i in range(REQUESTS):
        user = USERS[i % len(USERS)]
        other = rng.choice([u for u in USERS if u != user])
        own, foreign = f"{user}-s{rng.randrange(PER_USER)}", f"{other}-s{rng.randrange(PER_USER)}"
        kind = i // len(USERS) % 12
        calls.append({
            0: ("GET", f"/sessions?limit=100&user_id={other}", None),
            1: ("GET", f"/sessions/{own}", None),
            2: ("GET", f"/sessions/{foreign}?user_id={other}", None),
            3: ("GET", f"/sessions/{foreign}/runs", None),
            4: ("GET", f"/sessions/{foreign}/runs/{foreign}-r", None),
            5: ("PATCH", f"/sessions/{own}/state", {f"by-{user}": i}),
            6: ("PATCH", f"/sessions/{foreign}/state", {f"by-{user}": i}),
            7: ("POST", f"/sessions/{foreign}/rename?user_id={other}", {"session_name": f"renamed by {user}"}),
            8: ("PATCH", f"/sessions/{foreign}", {"session_name": f"patched by {user}", "metadata": {"by": user}}),
            9: ("DELETE", f"/sessions/{foreign}?user_id={other}", None),
            10: ("DELETE", "/sessions", {"session_ids": [foreign, f"{user}-new-{i}"], "session_types": ["agent"] * 2}),
            11: ("POST", "/sessions", {"session_id": f"{user}-new-{i}", "user_id": other}),
        }[kind] + (user, tokens[user]))
    rng.shuffle(calls)
    return calls


def test_thousand_concurrent_requests_from_ten_users_see_and_change_only_their_own(seeded, pg_dsn) -> None:
    secret = hs_secret()
    env = {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv", "JWT_VERIFICATION_KEY": secret, "AGNO_JWT_ALGORITHM": "HS256",
           "AGNO_AUTHORIZATION": "true"}
    calls = plan(random.Random(10), secret)
    with serving(env, workers=2, threads=8) as server:
        def send(call):
            method, path, body, user, headers = call
            status, _, data = server.request(method, path, body, headers, timeout=60)
            return method, path, user, status, data

        with ThreadPoolExecutor(max_workers=40) as pool:
            results = list(pool.map(send, calls))

    statuses = Counter()
    foreign_seen = []
    for method, path, user, status, data in results:
        statuses[(method, path.split("?")[0].count("/"), status)] += 1
        text = data.decode()
        for asked in re.split(r"[/?&=]", path):  # what the caller sent may come back (AgentOS's 404 names the id)
            if asked.startswith("user-"):
                text = text.replace(asked, "<asked>")
        for other in USERS:
            # "user-1" is a prefix of no other id here (user-0 … user-9), so a plain search is exact.
            if other != user and other in text:
                foreign_seen.append((method, path, user, status, text[:200]))
        if method == "GET" and path.startswith("/sessions?"):
            body = json.loads(data)
            assert status == 200 and {s["user_id"] for s in body["data"]} <= {user}, text[:300]
            assert body["meta"]["total_count"] >= PER_USER - 0  # own seeded sessions are never deleted
        elif path.startswith("/sessions/") and f"/{user}-s" not in path:
            assert status in (204, 404), (method, path, user, status, text[:200])  # foreign: as if missing
        elif method == "POST" and path == "/sessions":
            assert status == 201 and json.loads(data)["user_id"] == user
    assert foreign_seen == []
    assert len(results) == REQUESTS

    sessions = seeded.execute("SELECT session_id, user_id, session_data, metadata FROM ai.agno_sessions")
    runs = seeded.execute("SELECT run_id, session_id, user_id FROM ai.agno_runs")
    owner = {sid: user for sid, user, _, _ in sessions}
    for user in USERS:  # nothing seeded was deleted, renamed or patched by anyone else
        for n in range(PER_USER):
            sid = f"{user}-s{n}"
            assert owner.get(sid) == user, sid
    changed_by_others = []
    for sid, user, data, metadata in sessions:
        state = (data or {}).get("session_state") or {}
        writers = {key.removeprefix("by-") for key in state}
        if writers - {user} or (data or {}).get("session_name", "").split(" by ")[-1] not in ("", user) and \
                " by " in (data or {}).get("session_name", ""):
            changed_by_others.append((sid, user, data))
        if metadata and metadata.get("by") not in (None, user):
            changed_by_others.append((sid, user, metadata))
        if "-new-" in sid:
            assert sid.startswith(f"{user}-new-"), (sid, user)  # created sessions belong to their creator
    assert changed_by_others == []
    assert all(owner[sid] == run_user for _, sid, run_user in runs if sid in owner)
    assert len(runs) == len(USERS) * PER_USER  # no run of any session was removed
    own_merges = sum(1 for method, path, user, status, _ in results
                     if method == "PATCH" and path.endswith("/state") and f"/{user}-s" in path and status == 200)
    assert own_merges == REQUESTS // 12 or own_merges > 0
