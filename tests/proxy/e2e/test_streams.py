"""Streams pass through the real mitmdump as they arrive, in every mode, also while the mode is switched."""

from __future__ import annotations

import concurrent.futures
import statistics

import pytest

from tests.proxy.e2e.stage import Mitmdump
from tests.proxy.e2e.streaming_upstream import EVENTS, GAP, ROUTES, StreamingUpstream, receive

TOLERANCE = 0.1  # the criterion: the spacing through the proxy within 100 ms of the spacing direct


@pytest.fixture(scope="module")
def upstream():
    server = StreamingUpstream()
    yield server
    server.stop()


@pytest.mark.parametrize("mode", ["shadow", "cutover", "reverse"])
def test_events_arrive_through_the_proxy_spaced_as_sent(upstream, workdir, mode):
    # The upstream stands for both AgentOS and agno-session, so /sessions/… streams in every mode too.
    proxy = Mitmdump(workdir, upstream.url, upstream.url, mode)
    try:
        with concurrent.futures.ThreadPoolExecutor(2 * len(ROUTES)) as pool:  # direct and through, side by side
            futures = {(path, side): pool.submit(receive, base, path)
                       for path in ROUTES for side, base in (("direct", upstream.url), ("proxy", proxy.url))}
            got = {key: f.result() for key, f in futures.items()}
        summary = proxy.settled(len(ROUTES))
    finally:
        proxy.stop()
    for path in ROUTES:
        direct, via = got[(path, "direct")], got[(path, "proxy")]
        assert via.body == direct.body and len(via.times) == EVENTS, path
        spacing_direct, spacing_via = statistics.mean(direct.gaps()), statistics.mean(via.gaps())
        print(f"\n{mode} {path}: spacing direct {spacing_direct:.3f}s, through the proxy {spacing_via:.3f}s, "
              f"gaps {[round(g, 3) for g in via.gaps()]}")
        assert abs(spacing_via - spacing_direct) <= TOLERANCE, f"{mode} {path}: events bunched by the proxy"
        assert min(via.gaps()) > GAP / 2, f"{mode} {path}: events held back and released together {via.gaps()}"
    reasons = summary["not_compared"]
    assert summary["compared"] == 0 and reasons["route_excluded"] == 2
    assert reasons["cutover_mode" if mode == "cutover" else "event_stream"] == 1


def test_a_stream_in_flight_survives_mode_switches(upstream, workdir):
    proxy = Mitmdump(workdir, upstream.url, upstream.url, "shadow")
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(receive, proxy.url, "/agents/a1/runs")
            for mode in ("cutover", "reverse", "shadow"):
                assert proxy.switch(mode)["mode"] == mode
            arrivals = future.result()
    finally:
        proxy.stop()
    assert len(arrivals.times) == EVENTS and min(arrivals.gaps()) > GAP / 2
