"""`agno-session deliver` as real processes: two of them over one database, only the lock holder delivers; SIGTERM
stops it gracefully (exit 0, a summary, the lock released) and the standby takes over; a receiver that checks
every signature gets every event exactly once, in each session's order, across the hand-over; the metrics port
answers."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from service.cli import migrate
from tests.support.servers import CLI, free_port, terminate
from tests.support.webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
WAIT = 90.0  # seconds a condition may take on a loaded machine


class Deliver:
    """One `agno-session deliver` process and the lines it printed so far."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([CLI, "deliver", "--poll", "0.1", "--lock-retry", "0.2"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))

    def said(self, words: str) -> bool:
        return any(words in line for line in self.lines)


def wait_until(condition, what: str) -> None:
    ends = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError(f"not within {WAIT} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def receiver():
    found = Receiver(SECRET)
    yield found
    found.close()


def test_two_deliverers_one_delivers_and_the_other_takes_over_on_sigterm(make_app, pg_dsn, receiver,
                                                                         tmp_path: Path) -> None:
    app = make_app(AGNO_DB_ID="srv")
    migrate(app.config["SETTINGS"], changes=True, hooks=True)
    client = app.test_client()
    hooks = tmp_path / "webhooks.yaml"
    hooks.write_text(f"subscriptions:\n  - name: rx\n    url: {receiver.url}\n    secret: {SECRET}\n"
                     "    events: session.*\n")
    port_one, port_two = free_port(), free_port()
    base = {**os.environ, "AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv", "AGNO_WEBHOOKS_FILE": str(hooks)}
    one = Deliver({**base, "AGNO_DELIVER_METRICS_PORT": str(port_one)})
    two = None
    try:
        wait_until(lambda: one.said("holds the lock"), "the first deliverer takes the lock")
        two = Deliver({**base, "AGNO_DELIVER_METRICS_PORT": str(port_two)})
        wait_until(lambda: two.said("standing by"), "the second stands by")
        for s in ("a", "b"):
            assert client.post("/sessions", json={"session_id": s, "session_name": "0"}).status_code == 201
            assert client.post(f"/sessions/{s}/rename", json={"session_name": "1"}).status_code == 200
        wait_until(lambda: len(receiver.ids()) == 4, "four events delivered by the first")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port_one}/metrics", timeout=10).read().decode()
        assert 'agno_session_webhooks_delivered_total{db_id="srv",subscription="rx"} 4.0' in metrics
        assert 'agno_session_webhooks_active{db_id="srv"} 1.0' in metrics
        assert terminate(one.proc) == 0
        one.reader.join(10)
        assert one.said("srv: stopped: 4 delivered, 0 retried, 0 dead-lettered")
        wait_until(lambda: two.said("holds the lock"), "the standby takes over")
        assert client.post("/sessions/a/rename", json={"session_name": "2"}).status_code == 200
        assert client.delete("/sessions/b").status_code == 204
        wait_until(lambda: len(receiver.ids()) == 6, "two more events delivered by the second")
        time.sleep(1.0)  # a duplicate would arrive within the next rounds (poll 0.1 s)
    finally:
        terminate(one.proc)
        if two is not None:
            terminate(two.proc)
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == 6 and receiver.refused_signatures == 0
    order: dict[str, list[str]] = {}
    for _, event in receiver.accepted:
        order.setdefault(event["data"]["session_id"], []).append(event["type"])
    assert order == {"a": ["session.created", "session.updated", "session.updated"],
                     "b": ["session.created", "session.updated", "session.deleted"]}


def test_deliver_refuses_to_start_without_its_tables(make_app, pg_dsn, tmp_path: Path) -> None:
    make_app(AGNO_DB_ID="srv")
    hooks = tmp_path / "webhooks.yaml"
    hooks.write_text(f"subscriptions:\n  - name: rx\n    url: http://127.0.0.1:9/\n    secret: {SECRET}\n")
    env = {**os.environ, "AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv", "AGNO_WEBHOOKS_FILE": str(hooks),
           "AGNO_DELIVER_METRICS_PORT": "0"}
    done = subprocess.run([CLI, "deliver"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "srv: missing the change log (`agno-session migrate --changes`) and the webhook tables" in done.stderr
    hooks.write_text(f"subscriptions:\n  - name: rx\n    url: http://127.0.0.1:9/\n    secret: {SECRET}\n"
                     "    events: [session.renamed]\n")
    done = subprocess.run([CLI, "deliver"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "line 2: subscription 'rx': `events` pattern session.renamed" in done.stderr
