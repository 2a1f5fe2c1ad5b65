"""Sampling: shares, consistency per conversation, the rate cap, runtime changes validated."""

from __future__ import annotations

import pytest

from proxy import routes
from proxy.sampling import Sampler


def test_share_is_consistent_per_key_and_close_to_the_percentage() -> None:
    sampler = Sampler(percent=30)
    keys = [f"session:{i}" for i in range(4000)]
    first = [sampler.sampled("GET /sessions/{session_id}", k) for k in keys]
    assert first == [sampler.sampled("GET /sessions/{session_id}/runs", k) for k in keys]
    assert 0.27 < sum(first) / len(first) < 0.33


def test_route_share_multiplies_the_global_one() -> None:
    sampler = Sampler(percent=50, routes={"GET /sessions": 50})
    assert sampler.share("GET /sessions") == 25 and sampler.share("GET /sessions/{session_id}") == 50
    assert not Sampler(percent=0).sampled("GET /sessions", None)


def test_rate_cap_spends_one_second_of_budget() -> None:
    sampler = Sampler(rate_per_second=5)
    sampler._tokens = 5
    assert sum(sampler.admit() for _ in range(20)) in (5, 6)


def test_updates_are_validated() -> None:
    sampler = Sampler()
    sampler.update({"percent": 10, "routes": {"GET /sessions": 20}})
    assert sampler.settings() == {"percent": 10.0, "rate_per_second": 0.0, "routes": {"GET /sessions": 20.0}}
    with pytest.raises(ValueError, match="percent"):
        sampler.update({"percent": -1})
    with pytest.raises(ValueError, match="unknown route"):
        sampler.update({"routes": {"GET /nope": 1}})


def test_sampling_key_prefers_the_session_then_the_user() -> None:
    assert routes.sampling_key("/sessions/abc/runs/r1", "user_id=u") == "session:abc"
    assert routes.sampling_key("/sessions", "type=agent&user_id=u%201") == "user:u 1"
    assert routes.sampling_key("/sessions", "type=agent") is None


def test_canonical_routes() -> None:
    assert routes.canonical("get", "/sessions/a%2Fb/runs/r") == "GET /sessions/{session_id}/runs/{run_id}"
    assert routes.canonical("POST", "/sessions/") == "POST /sessions"
    assert routes.canonical("GET", "/sessions/a/media/images/x.png") == "GET /sessions/{session_id}/media/{key}"
    assert routes.canonical("GET", "/sessions/a/bogus") == "GET /sessions/{other}"
    assert routes.is_routed("/sessions/x") and not routes.is_routed("/session") and not routes.is_routed("/sessionsx")
