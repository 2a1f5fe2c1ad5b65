"""The Compose `webhooks` profile end to end: a receiver that checks every Standard Webhooks signature (the tests' own,
tests/support/webhook_receiver.py) listens on this machine; once the running deliverer has read the feed's head
(its metrics say so), sessions are created, renamed and deleted through the front, and the receiver must get
exactly those events, each signed right, each session's in order, and the deliverers' metrics must count them
(every replica answers; exactly one holds the lock).

    python -m scripts.deploy.webhook_check FRONT_URL METRICS_URL... --secret whsec_... --port N --user-id U --db-id D
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

from prometheus_client.parser import text_string_to_metric_families

from tests.support.webhook_receiver import Receiver

SUBSCRIPTION = "compose-check"  # the name compose-webhooks-test.sh gives the subscription
WAIT = 60.0  # seconds the deliverer may take for a step on a loaded machine (it polls every second)
SETTLE = 3.0  # seconds to keep listening after the last expected event: a duplicate or extra would arrive by then


def call(method: str, url: str, body: dict | None = None) -> int:
    """The status of one request to the front."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def samples(urls: list[str], db_id: str) -> list[dict[str, float]] | None:
    """Per deliverer replica, its webhook samples of `db_id` by name (labels but db_id kept in the key);
    None while one does not answer."""
    found = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return None
        found.append({sample.name + "".join(f"/{v}" for k, v in sorted(sample.labels.items()) if k != "db_id"):
                      sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                      if sample.name.startswith("agno_session_webhooks_") and sample.labels.get("db_id") == db_id})
    return found


def started(urls: list[str], db_id: str) -> bool:
    """Every replica answers, exactly one holds the lock, and it has read the feed's head (its queue is measured)."""
    found = samples(urls, db_id)
    active = [s for s in found or [] if s.get("agno_session_webhooks_active") == 1.0]
    return len(active) == 1 and f"agno_session_webhooks_queued/{SUBSCRIPTION}" in active[0]


def delivered(urls: list[str], db_id: str) -> float:
    """Events the replicas together count as delivered to the subscription."""
    return sum(s.get(f"agno_session_webhooks_delivered_total/{SUBSCRIPTION}", 0.0)
               for s in samples(urls, db_id) or [])


def wait_for(condition, what: str, seen=None) -> None:  # noqa: ANN001 (a predicate; what was seen, on failure)
    ends = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > ends:
            raise SystemExit(f"webhooks: not within {WAIT:.0f} s: {what}" + (f"; seen: {seen()}" if seen else ""))
        time.sleep(0.2)


def writes(front: str, user_id: str) -> dict[str, list[tuple[str, list[str]]]]:
    """Two sessions created, renamed and deleted through the front; the events each must bring, in order."""
    expected = {}
    for n in (1, 2):
        sid = f"webhook-check-{uuid.uuid4().hex[:8]}-{n}"
        steps = [("POST", "/sessions?type=agent", {"session_id": sid, "agent_id": "a", "user_id": user_id,
                                                   "session_name": "first"}, 201),
                 ("POST", f"/sessions/{sid}/rename?type=agent", {"session_name": "second"}, 200),
                 ("DELETE", f"/sessions/{sid}?type=agent", None, 204)]
        for method, path, body, want in steps:
            got = call(method, front + path, body)
            if got != want:
                raise SystemExit(f"webhooks: {method} {path} answered {got}, not {want}")
        expected[sid] = [("session.created", []), ("session.updated", ["name"]), ("session.deleted", [])]
    return expected


def check(receiver: Receiver, expected: dict, user_id: str, db_id: str) -> list[str]:
    """What is wrong with what the receiver accepted (nothing: [])."""
    problems = []
    ids = receiver.ids()
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate webhook-ids: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
    got: dict[str, list[tuple[str, list[str]]]] = {}
    for _, event in receiver.accepted:
        data = event["data"]
        got.setdefault(data["session_id"], []).append((event["type"], sorted(data["changed"]) if
                                                       event["type"] == "session.updated" else []))
        if (data["user_id"], data["db_id"], data["session_type"]) != (user_id, db_id, "agent"):
            problems.append(f"event {event['type']} of {data['session_id']}: user_id {data['user_id']!r}, "
                            f"db_id {data['db_id']!r}, session_type {data['session_type']!r}; wanted "
                            f"{user_id!r}, {db_id!r}, 'agent'")
    if got != expected:
        problems.append(f"events per session (in arrival order) {got}, wanted {expected}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("front")
    parser.add_argument("metrics", nargs="+", help="each deliverer replica's /metrics URL")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--db-id", required=True)
    args = parser.parse_args()
    # Every interface: the deliverer reaches this machine through the container network's gateway
    # (host.containers.internal), an address that exists only inside podman's network namespace.
    receiver = Receiver(args.secret, host="0.0.0.0", port=args.port)  # noqa: S104
    try:
        wait_for(lambda: started(args.metrics, args.db_id),
                 "every replica's metrics answer, one holds the lock and has read the feed's head",
                 lambda: samples(args.metrics, args.db_id))
        expected = writes(args.front, args.user_id)
        total = sum(len(events) for events in expected.values())
        print(f"webhooks: {len(expected)} sessions created, renamed, deleted; waiting for {total} events",
              file=sys.stderr)
        wait_for(lambda: len(receiver.ids()) >= total or receiver.refused_signatures > 0,
                 f"{total} events at the receiver", lambda: f"{len(receiver.ids())} events")
        if receiver.refused_signatures:
            raise SystemExit(f"webhooks: {receiver.refused_signatures} request(s) with a bad signature")
        time.sleep(SETTLE)
        problems = check(receiver, expected, args.user_id, args.db_id)
        if receiver.refused_signatures:
            problems.append(f"{receiver.refused_signatures} request(s) with a bad signature")
        wait_for(lambda: delivered(args.metrics, args.db_id) == total,
                 f"the deliverers' metrics count {total} delivered", lambda: samples(args.metrics, args.db_id))
    finally:
        receiver.close()
    for problem in problems:
        print(f"webhooks: {problem}", file=sys.stderr)
    if not problems:
        print(f"webhooks: {total} events, every signature valid, each session's in order, none twice; "
              f"{len(args.metrics)} replicas' metrics: one active, {total} delivered", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
