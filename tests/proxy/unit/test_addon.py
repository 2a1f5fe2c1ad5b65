"""The addon under mitmproxy's own test helpers: options, routing per mode, skip reasons, the async comparison."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from proxy.addon import ShadowAddon
from tests.proxy.unit.flows import SESSIONS, candidate, configured, drive, flow, json_answer, request


def test_invalid_options_are_refused_with_the_reason(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path)  # a valid start, so that each refusal rolls back to it
        with pytest.raises(exceptions.OptionsError, match="shadow_mode must be one of"):
            configured(tctx, addon, tmp_path, shadow_mode="mirror")
        with pytest.raises(exceptions.OptionsError, match="applied twice"):
            configured(tctx, addon, tmp_path, shadow_mirror_writes=True)
        with pytest.raises(exceptions.OptionsError, match="base URL"):
            tctx.configure(addon, shadow_agentos="127.0.0.1:7777", shadow_sessions=SESSIONS)
        rules_file = tmp_path / "rules.yaml"
        rules_file.write_text("noise:\n  sets: [data]\n")
        with pytest.raises(exceptions.OptionsError, match=r"rules.yaml: \$.noise.sets\[0\]"):
            configured(tctx, addon, tmp_path, shadow_rules=str(rules_file))


@pytest.mark.parametrize(("mode", "upstream"), [("shadow", 22), ("cutover", 8080), ("reverse", 8080)])
def test_routed_paths_go_to_agno_session_except_in_shadow_mode(tmp_path, mode, upstream) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_mode=mode)
        sessions, agents = flow(path="/sessions?limit=2"), flow(path="/agents")
        request(addon, sessions)
        request(addon, agents)
        assert sessions.request.port == upstream and agents.request.port == 22
        assert sessions.metadata["shadow_route"] == "GET /sessions"


def test_identical_and_different_pairs_are_counted_and_located(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_recheck=False)
        candidate(addon, json_answer({"session_id": "s1", "n": 2}))
        same = flow(answer={"session_id": "s1", "n": 2})
        other = flow(path="/sessions/s2/runs/r1", answer={"session_id": "s1", "n": 1}, headers={
            "Authorization": "Bearer s3cret"})
        asyncio.run(drive(addon, same, other))
        addon.flush()
        run_dir = addon.run.report.dir
        assert run_dir.parent == tmp_path / "report" and run_dir.name.startswith("shadow-")
        summary = json.loads((run_dir / "summary.json").read_text())
        assert (summary["compared"], summary["identical"], summary["different"]) == (2, 1, 1)
        route = summary["routes"]["GET /sessions/{session_id}/runs/{run_id}"]
        assert route["fields"]["/n"]["kinds"] == {"value": 1}
        record = json.loads((run_dir / "differences.ndjson").read_text())
        assert record["differences"] == [{"part": "body", "pointer": "/n", "kind": "value", "primary": 1,
                                          "candidate": 2}]
        assert "s3cret" not in json.dumps(record) and "curl" in record["curl"]["candidate"]
        assert record["declared"] is None and summary["regressions"] == 1
        assert "<code>/n</code>" in (run_dir / "report.html").read_text()


def test_unstable_when_the_primary_changes_its_own_answer(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path)
        candidate(addon, json_answer({"session_id": "s1", "n": 2}))  # the primary now also says 2
        asyncio.run(drive(addon, flow()))
        assert addon.tally.as_dict()["unstable"] == 1


def test_every_request_not_compared_has_its_reason(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_sample_percent="0")
        candidate(addon, json_answer({}))
        asyncio.run(drive(addon, flow(path="/agents"), flow(method="POST", path="/sessions"),
                          flow(headers={"x-agno-shadow": "1"}), flow()))
        reasons = {k: v for k, v in addon.tally.as_dict()["not_compared"].items() if v}
        assert reasons == {"route_excluded": 1, "write_not_mirrored": 1, "loop_guard": 1, "sampled_out": 1}


def test_a_hanging_candidate_times_out_and_opens_the_breaker(tmp_path) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_timeout="0.05", shadow_breaker_failures=2,
                   shadow_breaker_cooldown="60")
        candidate(addon, hang)

        async def scenario() -> None:
            await drive(addon, flow(), flow())
            await drive(addon, flow())

        asyncio.run(scenario())
        assert addon.tally.as_dict()["not_compared"]["timeout"] == 2
        assert addon.tally.as_dict()["not_compared"]["breaker_open"] == 1


def test_a_dead_candidate_is_a_candidate_error_and_the_queue_is_bounded(tmp_path) -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_concurrency=1, shadow_queue=1)
        candidate(addon, refuse)

        async def scenario() -> None:
            flows = [flow() for _ in range(3)]
            for f in flows:  # no awaiting in between: three arrive while the first two are pending
                request(addon, f)
                addon.response(f)
            await asyncio.gather(*addon.comparer.tasks)

        asyncio.run(scenario())
        reasons = addon.tally.as_dict()["not_compared"]
        assert (reasons["candidate_error"], reasons["queue_full"]) == (2, 1)


def test_noise_cancellation_with_a_second_primary(tmp_path) -> None:
    async def sides(request: httpx.Request) -> httpx.Response:
        # the second primary (port 7777 asked again) disagrees with the first on /at as well
        return httpx.Response(200, json={"session_id": "s1", "n": 1, "at": request.url.port},
                              headers={"content-type": "application/json"})

    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_secondary="primary", shadow_recheck=False)
        candidate(addon, sides)
        asyncio.run(drive(addon, flow(answer={"session_id": "s1", "n": 1, "at": 0})))
        summary = addon.tally.as_dict()
        assert summary["identical"] == 1
        assert addon.tally.routes["GET /sessions/{session_id}"].fields["/at"].noise == 1
