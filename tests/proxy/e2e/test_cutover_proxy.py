"""The real mitmdump with the addon between clients and the real AgentOS and agno-session, on one database."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from tests.contract import deviations, replay
from tests.contract.harness import corpus
from tests.proxy.e2e.stage import FieldRewriter, Hang, Mitmdump, Raw, dead_url, exchange

SESSION_HEADERS = frozenset({"date", "x-request-id"})  # agno-session's request id is new on every answer


def send(base: str, req: replay.Request) -> Raw:
    return exchange(base, req.method, req.target, req.headers, req.body)


def routed(req: replay.Request) -> bool:
    path = req.target.split("?", 1)[0]
    return path == "/sessions" or path.startswith("/sessions/")


def undeclared(records: list[dict], reads: list[replay.Request], devs: list[deviations.Deviation]) -> list[str]:
    """Differing pairs that no declared deviation explains (A is always AgentOS, B agno-session)."""
    problems = []
    for record in records:
        sides = {record["primary_side"]: record["primary"], record["candidate_side"]: record["candidate"]}
        a, b = (_response(sides["agentos"]), _response(sides["sessions"]))
        matching = [r for r in reads if r.method == record["request"]["method"]
                    and r.target == record["request"]["target"]]
        if not any(deviations.explain(devs, r, a, b) for r in matching):
            problems.append(f"{record['request']['method']} {record['request']['target']}: "
                            f"{record['differences'][:3]}")
    return problems


def _response(side: dict) -> replay.Response:
    headers: dict[str, str] = {}
    for name, value in side["headers"]:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return replay.Response(side["status"], headers, side["body"].encode(), 0.0, 0.0)


@pytest.fixture(scope="module")
def reads(cluster) -> list[replay.Request]:
    cluster.restore()
    return corpus("requests", cluster.pairs["single"].variables)


def test_shadow_answers_are_agentos_bytes_and_every_pair_is_identical_or_declared(cluster, workdir, reads, devs):
    pair = cluster.pairs["single"]
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "shadow")
    try:
        for req in reads:
            direct, via = send(pair.a.url, req), send(proxy.url, req)
            assert via.comparable() == direct.comparable(), f"{req.label()}: the proxy changed AgentOS's answer"
        summary = proxy.settled(len(reads))
        records = proxy.records()
    finally:
        proxy.stop()
    routed_reads = [r for r in reads if routed(r) and r.method in ("GET", "HEAD", "OPTIONS")]
    routed_writes = [r for r in reads if routed(r) and r not in routed_reads]
    assert summary["seen"] == len(reads)
    assert summary["compared"] == len(routed_reads) > 100
    assert summary["not_compared"]["write_not_mirrored"] == len(routed_writes)
    assert summary["not_compared"]["route_excluded"] == len(reads) - len(routed_reads) - len(routed_writes)
    assert summary["unstable"] == 0, [(r["request"]["target"], r["differences"][:3]) for r in records
                                      if r["outcome"] == "unstable"]
    assert summary["different"] == 0, [r for r in records if not r["declared"]][:3]
    assert summary["declared"] == len(records) > 0
    assert undeclared(records, reads, devs) == []  # the contract test's own judgement agrees with the proxy's
    print(f"\nshadow: {summary['compared']} compared, {summary['identical']} identical, "
          f"{summary['declared']} declared deviations {summary['declared_by_name']}")


def test_shadow_writes_pass_through_and_are_never_mirrored_on_one_database(cluster, workdir):
    pair = cluster.pairs["single"]
    db = pair.databases[0]
    writes = corpus("writes", pair.variables)
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "shadow")
    try:
        for req in writes:
            db.tables.restore(db.dsn)
            direct = replay.send(pair.a.url, req)
            db.tables.restore(db.dsn)
            via = replay.send(proxy.url, req)
            if direct.status >= 500:  # AgentOS's 500 detail echoes its SQL with "now" timestamps: status and type only
                assert (via.status, via.headers.get("content-type")) \
                    == (direct.status, direct.headers.get("content-type")), req.label()
                continue
            assert (via.status, replay.compare(direct, via, ("content-type", "allow", "vary", "content-length"))) \
                == (direct.status, []), req.label()
        summary = proxy.settled(len(writes))
    finally:
        proxy.stop()
        cluster.restore()
    mutating = [r for r in writes if routed(r) and r.method not in ("GET", "HEAD", "OPTIONS")]
    assert summary["not_compared"]["write_not_mirrored"] == len(mutating) > 50


def test_an_injected_difference_is_found_at_its_pointer(cluster, workdir):
    pair = cluster.pairs["single"]
    candidate = FieldRewriter(pair.b.url)
    proxy = Mitmdump(workdir, pair.a.url, candidate.url, "shadow")
    try:
        for target in ("/sessions/agent-sess-1", "/sessions?limit=3"):
            send(proxy.url, replay.Request("GET", target))
        summary = proxy.settled(2)
        records = proxy.records()
        html = (proxy.report_dir / "report.html").read_text()
    finally:
        proxy.stop()
        candidate.stop()
    assert (summary["compared"], summary["identical"], summary["different"]) == (2, 1, 1)
    (record,) = records
    assert record["request"]["target"] == "/sessions/agent-sess-1"
    assert [(d["pointer"], d["kind"], d["candidate"]) for d in record["differences"]] == [
        ("/session_name", "value", "injected")]
    field = summary["routes"]["GET /sessions/{session_id}"]["fields"]["/session_name"]
    assert field["kinds"] == {"value": 1} and field["regression"]
    assert "/session_name" in html and 'data-verdict="different"' in html


@pytest.mark.parametrize("kind", ["hangs", "dies"])
def test_a_failing_candidate_delays_or_fails_no_client_request(cluster, workdir, reads, kind):
    pair = cluster.pairs["single"]
    hang = Hang() if kind == "hangs" else None
    candidate = hang.url if hang else dead_url()
    # The candidate's timeout is far above any client's wait: a client that waited on it would be seen.
    proxy = Mitmdump(workdir, pair.a.url, candidate, "shadow", shadow_timeout="30", shadow_queue="16",
                     shadow_concurrency="4")
    gets = [r for r in reads if routed(r) and r.method == "GET"][:80]
    try:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda r: (r, send(pair.a.url, r), send(proxy.url, r)), gets))
        elapsed = time.monotonic() - started
        summary = proxy.summary()
    finally:
        proxy.stop()
        if hang:
            hang.stop()
    for req, direct, via in results:
        assert via.comparable() == direct.comparable(), req.label()
        assert via.seconds < 10, f"{req.label()} took {via.seconds:.1f}s through the proxy"
    assert elapsed < 60
    assert summary["seen"] == len(gets) and summary["compared"] == 0
    reasons = summary["not_compared"]
    if kind == "hangs":
        assert summary["pending"] + reasons["queue_full"] == len(gets) and reasons["queue_full"] > 0
    else:
        assert reasons["candidate_error"] + reasons["breaker_open"] + reasons["queue_full"] == len(gets)
        assert reasons["breaker_open"] > 0


def test_cutover_sends_sessions_to_agno_session_and_the_rest_to_agentos(cluster, workdir, reads):
    pair = cluster.pairs["single"]
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "cutover")
    try:
        for target in ("/agents", "/teams", "/config", "/workflows", "/health"):
            req = replay.Request("GET", target)
            direct, via = send(pair.a.url, req), send(proxy.url, req)
            assert via.status == 200 and via.comparable() == direct.comparable(), target
            assert via.header("x-request-id") is None, f"{target} did not come from AgentOS"
        for req in [r for r in reads if routed(r) and r.method == "GET"]:
            direct, via = send(pair.b.url, req), send(proxy.url, req)
            assert via.comparable(SESSION_HEADERS) == direct.comparable(SESSION_HEADERS), req.label()
            assert via.header("x-request-id"), f"{req.label()} did not come from agno-session"
        summary = proxy.summary()
    finally:
        proxy.stop()
    assert summary["compared"] == 0 and summary["not_compared"]["cutover_mode"] > 100


def test_reverse_shadow_answers_from_agno_session_and_compares_with_agentos(cluster, workdir, reads, devs):
    pair = cluster.pairs["single"]
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "reverse")
    gets = [r for r in reads if routed(r) and r.method == "GET"]
    try:
        for req in gets:
            direct, via = send(pair.b.url, req), send(proxy.url, req)
            assert via.comparable(SESSION_HEADERS) == direct.comparable(SESSION_HEADERS), req.label()
        summary = proxy.settled(len(gets))
        records = proxy.records()
    finally:
        proxy.stop()
    assert summary["compared"] == len(gets) and summary["unstable"] == 0 and summary["different"] == 0
    assert all(r["primary_side"] == "sessions" for r in records)
    assert undeclared(records, reads, devs) == []
