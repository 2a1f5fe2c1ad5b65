"""`agno-session retention` as a CronJob runs it: a subprocess against a real PostgreSQL. The plan changes nothing,
apply needs --yes, sweeps what the plan listed and pushes its counts to a Pushgateway; a bad policy file stops every
command (and the service) with the file's line."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.cli import migrate
from service.core.config import load_settings

CLI = str(Path(sys.executable).parent / "agno-session")
DAY = 86400
POLICIES = """\
policies:
  - name: old-support
    match: {component_id: support-bot}
    after: 30d
    action: archive
  - name: long-chats
    after: 1d
    action: trim_runs
    keep_last: 2
"""


@pytest.fixture
def env(db_env, pg_dsn, rows, tmp_path) -> dict[str, str]:
    """The test database with the lifecycle installed, sessions of every kind, and a policy file."""
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), lifecycle=True)
    now = int(time.time())
    for n in range(5):
        rows.session(f"old-{n}", component_id="support-bot", created_at=now - 60 * DAY)
        for i in range(3):
            rows.run(f"old-{n}", {"run_id": f"old-{n}-r{i}", "agent_id": "support-bot"}, created_at=now - 60 * DAY)
    rows.session("held", component_id="support-bot", created_at=now - 60 * DAY)
    rows.execute("INSERT INTO ai.agno_sessions_svc_holds (session_id, reason, held_at) VALUES ('held', 'x', 1)")
    rows.session("fresh", component_id="support-bot", created_at=now - DAY // 2)
    rows.session("chatty", component_id="sales-bot", created_at=now - 3 * DAY)
    for i in range(5):
        rows.run("chatty", {"run_id": f"chatty-r{i}", "agent_id": "sales-bot"}, created_at=now - 3 * DAY + i)
    path = tmp_path / "retention.yaml"
    path.write_text(POLICIES, encoding="utf-8")
    return {**db_env, "AGNO_RETENTION_FILE": str(path)}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "retention", *args], env=env, capture_output=True, text=True, timeout=120)


class Pushgateway(BaseHTTPRequestHandler):
    """Keeps what is pushed to it, as a Pushgateway's PUT /metrics/job/<job> receives it."""

    pushed: list[tuple[str, str]] = []

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Pushgateway.pushed.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_plan_changes_nothing_and_apply_does_what_it_listed(env, rows) -> None:
    before = rows.snapshot()
    planned = run(env, "plan", "--json", "--show", "100")
    assert planned.returncode == 0, planned.stderr
    [document] = [json.loads(line) for line in planned.stdout.splitlines()]
    archive, trim = document["policies"]
    assert (archive["sessions"], archive["runs"], archive["held"]) == (5, 15, 1)
    assert archive["first_ids"] == [f"old-{n}" for n in range(5)]
    assert (trim["sessions"], trim["runs"], trim["first_ids"]) == (1, 3, ["chatty"])
    text = run(env)  # plan is the default
    assert "policy old-support (archive, line 2): would archive 5 sessions, 15 runs; 1 held" in text.stdout
    assert "nothing changed" in text.stdout
    assert rows.snapshot() == before

    refused = run(env, "apply")
    assert refused.returncode == 2 and "give --yes" in refused.stderr
    assert rows.snapshot() == before

    Pushgateway.pushed = []
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), Pushgateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        applied = run({**env, "AGNO_METRICS_PUSHGATEWAY": f"http://127.0.0.1:{gateway.server_port}"},
                      "apply", "--yes", "--batch", "2")
    finally:
        gateway.shutdown()
    assert applied.returncode == 0, applied.stderr
    assert "archived 5 sessions, 15 runs; skipped 1 held, 0 in use; 3 batches" in applied.stdout
    assert "trimmed 1 sessions, 3 runs" in applied.stdout
    live = {r[0] for r in rows.execute("SELECT session_id FROM ai.agno_sessions")}
    assert live == {"held", "fresh", "chatty"}
    assert rows.run_ids("chatty") == ["chatty-r3", "chatty-r4"]
    [(path, body)] = Pushgateway.pushed
    assert path == "/metrics/job/agno-session-retention"
    assert 'agno_session_retention_sessions_total{action="archive",db_id="srv",policy="old-support"} 5.0' in body
    assert 'agno_session_retention_runs_total{action="trim_runs",db_id="srv",policy="long-chats"} 3.0' in body
    assert 'agno_session_retention_skipped_sessions_total{db_id="srv",policy="old-support",reason="held"} 1.0' in body
    assert "agno_session_retention_last_success_timestamp_seconds" in body

    again = run(env, "plan", "--json")
    assert [p["sessions"] for p in json.loads(again.stdout)["policies"]] == [0, 0]


def test_a_bad_policy_file_stops_every_command_with_its_line(env, tmp_path, rows) -> None:
    before = rows.snapshot()
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICIES.replace("after: 1d", "after: 1 day"), encoding="utf-8")
    for argv in (["retention", "apply", "--yes"], ["check"], ["serve"]):
        done = subprocess.run([CLI, *argv], env={**env, "AGNO_RETENTION_FILE": str(bad)}, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2, (argv, done.stderr)
        assert f"AGNO_RETENTION_FILE {bad}, line 7: `after` must be a whole number" in done.stderr
    assert rows.snapshot() == before
    unset = run({k: v for k, v in env.items() if k != "AGNO_RETENTION_FILE"})
    assert unset.returncode == 2 and "AGNO_RETENTION_FILE is not set" in unset.stderr
