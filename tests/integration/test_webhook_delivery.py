"""Webhook delivery (`agno-session deliver`, issue 24 item 4) against a real PostgreSQL and a real receiver that
checks every signature: every event once, in each session's order, across a restart; retries with backoff and dead
letters after the window (time moved by the test, never slept), replayed; one active deliverer per database."""

from __future__ import annotations

import base64
import io
import threading
import time
from dataclasses import replace

import pytest

from service.cli import migrate
from service.commands import webhook_feed
from service.commands.dead_letters import dead_letters_command
from service.commands.webhook_delivery import RETRY_WINDOW, Deliverer
from service.commands.webhook_metrics import WebhookMetrics
from service.commands.webhook_sender import Sender
from service.core.webhook_subscriptions import Subscription
from service.storage import changes
from service.storage.registry import open_database
from tests.support.webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
WAIT = 60.0  # seconds a condition may take on a loaded machine before the test fails


class Clock:
    """The deliverer's time, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver():
    found = Receiver(SECRET)
    yield found
    found.close()


@pytest.fixture
def hooked(make_app, receiver):
    """The app over tables with the change log and the webhook tables, and a subscription to the receiver."""
    app = make_app()
    migrate(app.config["SETTINGS"], changes=True, hooks=True)
    subscription = Subscription(name="test", url=receiver.url, key=base64.b64decode(SECRET[6:]))
    return app, subscription


def deliverer(app, subscription: Subscription, clock=time.time, **kwargs) -> Deliverer:
    settings = app.config["SETTINGS"]
    db = open_database(settings.databases[0], 4, settings.request_timeout)
    return Deliverer(db, (subscription,), Sender(4), WebhookMetrics(), clock=clock, threads=4, **kwargs)


def drain(d: Deliverer, rounds: int = 50) -> None:
    """Rounds until one finds nothing to do (the lock taken first, as `run` does)."""
    assert d.lock.try_acquire()
    for _ in range(rounds):
        if not d.run_once():
            return
    raise AssertionError("the deliverer kept finding work")


def write(client, session_id: str, names: int) -> None:
    assert client.post("/sessions", json={"session_id": session_id, "session_name": "n0"}).status_code == 201
    for n in range(1, names + 1):
        assert client.post(f"/sessions/{session_id}/rename", json={"session_name": f"n{n}"}).status_code == 200


def by_session(receiver: Receiver) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _, event in receiver.accepted:
        found.setdefault(event["data"]["session_id"], []).append(event["type"])
    return found


def test_every_event_arrives_once_signed_and_in_order_across_a_restart(hooked, receiver) -> None:
    app, subscription = hooked
    client = app.test_client()
    first = deliverer(app, subscription)
    drain(first)  # a new subscription starts at the head
    for s in ("a", "b", "c"):
        write(client, s, 2)
    drain(first)
    first.lock.release()  # the restart: a new process, its position read from the table
    assert client.post("/sessions/b/rename", json={"session_name": "late"}).status_code == 200
    assert client.delete("/sessions/c").status_code == 204
    second = deliverer(app, subscription)
    drain(second)
    ids = receiver.ids()
    assert receiver.refused_signatures == 0
    assert len(ids) == len(set(ids)) and len(ids) == 3 * 3 + 2
    assert by_session(receiver) == {"a": ["session.created", "session.updated", "session.updated"],
                                    "b": ["session.created", "session.updated", "session.updated",
                                          "session.updated"],
                                    "c": ["session.created", "session.updated", "session.updated",
                                          "session.deleted"]}
    assert first.totals["delivered"] + second.totals["delivered"] == len(ids)


def test_failures_retry_with_backoff_then_dead_letter_and_replay(hooked, receiver) -> None:
    app, subscription = hooked
    client = app.test_client()
    clock = Clock()
    d = deliverer(app, subscription, clock)
    drain(d)
    receiver.failing.add("s1")
    write(client, "s1", 1)
    write(client, "s2", 1)
    drain(d)
    assert by_session(receiver) == {"s2": ["session.created", "session.updated"]}
    assert len(receiver.failed) == 1  # s1's first event failed once; its second waits behind it
    drain(d)
    assert len(receiver.failed) == 1  # not due before its backoff
    clock.now += 5
    drain(d)
    assert len(receiver.failed) == 2
    clock.now += RETRY_WINDOW  # a day later: the next failure is the last
    drain(d)
    # the first event is dead; the second, now the session's first, was tried in the same drain and failed once
    assert d.totals["dead-lettered"] == 1 and d.totals["retried"] == 3 and len(receiver.failed) == 4
    listed = io.StringIO()
    assert dead_letters_command(app.config["SETTINGS"], listed, io.StringIO(), None, False, None, 10, False) == 0
    assert "session.created session s1" in listed.getvalue() and "HTTP 500" in listed.getvalue()
    receiver.failing.clear()
    clock.now += 5
    drain(d)  # s1's second event, no longer behind the dead one, at its backoff
    assert by_session(receiver)["s1"] == ["session.updated"]
    dead_id = int(listed.getvalue().split("#")[1].split()[0])
    replayed = io.StringIO()
    assert dead_letters_command(app.config["SETTINGS"], replayed, io.StringIO(), [dead_id], False, None, 10,
                                False) == 0
    assert "1 dead letters back in the queue" in replayed.getvalue()
    clock.now = max(clock.now, time.time() + 1)
    drain(d)
    assert by_session(receiver)["s1"] == ["session.updated", "session.created"]
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == 4 and receiver.refused_signatures == 0


def wait_until(condition, what: str) -> None:
    ends = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError(f"not within {WAIT} s: {what}")
        time.sleep(0.05)


def test_one_deliverer_per_database_and_a_standby_takes_over(hooked, receiver) -> None:
    app, subscription = hooked
    client = app.test_client()
    one, two = deliverer(app, subscription), deliverer(app, subscription)
    stop_one, stop_two = threading.Event(), threading.Event()
    t_one = threading.Thread(target=one.run, args=(stop_one, 0.05, 0.1))
    t_one.start()
    wait_until(lambda: one.lock.held, "the first deliverer takes the lock")
    t_two = threading.Thread(target=two.run, args=(stop_two, 0.05, 0.1))
    t_two.start()
    try:
        time.sleep(0.5)  # the standby tries the lock several times meanwhile (lock_retry 0.1 s)
        write(client, "x", 1)
        # a deliverer counts a delivery once the receiver's answer is back, a moment after the receiver saw it
        wait_until(lambda: one.totals["delivered"] == 2, "the active deliverer delivers x's two events")
        assert len(receiver.ids()) == 2 and two.totals["delivered"] == 0 and not two.lock.held
        stop_one.set()
        t_one.join(WAIT)
        wait_until(lambda: two.lock.held, "the standby takes over once the first stops")
        write(client, "y", 1)
        wait_until(lambda: two.totals["delivered"] == 2, "the new holder delivers y's two events")
        assert len(receiver.ids()) == 4 and one.totals["delivered"] == 2
        ids = receiver.ids()
        assert len(set(ids)) == 4 and receiver.refused_signatures == 0
    finally:
        stop_one.set()
        stop_two.set()
        t_one.join(WAIT)
        t_two.join(WAIT)


def test_a_deliverer_without_a_lock_sends_nothing(hooked, receiver) -> None:
    """The lock is what stops a second deliverer: held by another session, `run` never gets to a round."""
    app, subscription = hooked
    holder, other = deliverer(app, subscription), deliverer(app, replace(subscription))
    assert holder.lock.try_acquire() and not other.lock.try_acquire()
    holder.lock.release()
    assert other.lock.try_acquire()
    other.lock.release()


def test_a_subscription_behind_the_pruned_log_resumes_where_it_begins(hooked, logged) -> None:
    app, subscription = hooked
    settings = app.config["SETTINGS"]
    db = open_database(settings.databases[0], 2, settings.request_timeout)
    client = app.test_client()
    try:
        saved = webhook_feed.read(db, subscription, None, 10).position  # a new subscription starts at the head
        assert client.post("/sessions", json={"session_id": "old", "session_name": "x"}).status_code == 201
        table = f"{settings.databases[0].schema}.{changes.names(db).table}"
        with db.primary.transaction() as cur:  # age the change past retention (its triggers refuse updates)
            cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cur.execute(f"UPDATE {table} SET at = at - 8 * 86400 * 1000")
            cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        assert client.post("/sessions", json={"session_id": "new", "session_name": "y"}).status_code == 201
        assert changes.prune(db, 7 * 86400, int(time.time() * 1000)) == 1
        batch = webhook_feed.read(db, subscription, saved, 10)
    finally:
        db.close()
    assert [e.session_id for e in batch.events] == ["new"]
    assert any(r.levelname == "ERROR" and "fell behind the change log" in r.getMessage() for r in logged)
