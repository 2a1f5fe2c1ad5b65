"""Run-time mode switches through the control API (one report directory per run), and which answers stream."""

from __future__ import annotations

import asyncio
import json
import logging

from mitmproxy.test import taddons

from proxy import streaming
from proxy.addon import ShadowAddon
from tests.proxy.unit.flows import candidate, configured, control, flow, json_answer, request


def test_bad_mode_switches_are_400_with_a_detail_and_change_nothing(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_control_port=8881)
        for body, detail in [(b"", "must be JSON"), (b"{", "must be JSON"), (b'["cutover"]', "one key"),
                             (b'{"mode": "cutover", "x": 1}', "one key"), (b'{"mode": "mirror"}', "one of"),
                             (b'{"mode": null}', "one of")]:
            answer = control(addon, "PUT", "/mode", body)
            assert answer.status_code == 400 and detail in json.loads(answer.content)["detail"], body
        assert addon.settings.mode == "shadow" and len(addon.runs.all) == 1
        assert control(addon, "POST", "/mode").status_code == 405


def test_each_mode_gets_its_own_report_and_a_flow_keeps_the_mode_it_came_in(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_control_port=8881, shadow_recheck=False)
        candidate(addon, json_answer({"session_id": "s1", "n": 2}))
        before = flow()
        request(addon, before)  # in flight across the switch
        answer = control(addon, "PUT", "/mode", b'{"mode": "cutover"}')
        assert answer.status_code == 200 and json.loads(answer.content)["changed"] is True
        assert ctx_mode(tctx) == "cutover"
        after = flow()
        request(addon, after)
        assert (before.request.port, after.request.port) == (22, 8080)  # tflow's server vs agno-session
        asyncio.run(drive_response(addon, before, after))
        assert json.loads(control(addon, "PUT", "/mode", b'{"mode": "cutover"}').content)["changed"] is False
        control(addon, "PUT", "/mode", b'{"mode": "reverse"}')
        addon.flush()
        shadow_run, cutover_run, reverse_run = addon.runs.all
        shadow = json.loads((shadow_run.report.dir / "summary.json").read_text())
        cutover = json.loads((cutover_run.report.dir / "summary.json").read_text())
        assert (shadow["mode"], shadow["different"], cutover["mode"], cutover["not_compared"]["cutover_mode"]) == (
            "shadow", 1, "cutover", 1)
        assert (shadow_run.report.dir / "differences.ndjson").exists()
        assert not (cutover_run.report.dir / "differences.ndjson").exists()
        index = json.loads((tmp_path / "report" / "runs.json").read_text())["runs"]
        assert [r["mode"] for r in index] == ["shadow", "cutover", "reverse"]
        assert index[0]["ended_at"] and index[-1]["ended_at"] is None
        assert json.loads(control(addon, "GET", "/mode").content)["report_dir"] == str(reverse_run.report.dir)


def ctx_mode(tctx) -> str:
    return tctx.options.shadow_mode


async def drive_response(addon: ShadowAddon, *flows) -> None:
    for f in flows:
        addon.response(f)
    while addon.comparer.tasks:
        await asyncio.gather(*addon.comparer.tasks)


def event_stream(path: str = "/sessions/s1/events"):
    f = flow(path=path)
    f.response.headers["content-type"] = "text/event-stream; charset=utf-8"
    return f


def test_answers_not_compared_are_streamed_and_compared_ones_copied_within_the_cap(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_compare_max_bytes=8)
        candidate(addon, json_answer({}))
        outside, sse, small, large, write = (flow(path="/agents/a/runs"), event_stream(), flow(), flow(),
                                             flow(method="POST", path="/sessions"))
        for f in (outside, sse, small, large, write):
            request(addon, f)
            addon.responseheaders(f)
        assert (outside.response.stream, sse.response.stream, write.response.stream) == (True, True, True)
        assert isinstance(small.response.stream, streaming.BoundedCopy)
        assert small.response.stream(b"1234") == b"1234" and not small.response.stream.overflowed
        assert large.response.stream(b"123456789") == b"123456789" and large.response.stream.overflowed
        asyncio.run(drive_response(addon, outside, sse, large, write))
        reasons = {k: v for k, v in addon.tally.as_dict()["not_compared"].items() if v}
        assert reasons == {"route_excluded": 1, "event_stream": 1, "body_too_large": 1, "write_not_mirrored": 1}


def test_every_answer_streams_in_cutover_mode_too(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_mode="cutover")
        for f in (flow(), flow(path="/agents"), event_stream()):
            request(addon, f)
            addon.responseheaders(f)
            assert f.response.stream is True


def test_the_streamed_copy_is_what_gets_compared(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_recheck=False)
        candidate(addon, json_answer({"session_id": "s1", "n": 1}))
        f = flow()
        request(addon, f)
        addon.responseheaders(f)
        for chunk in (b'{"session_id":', b'"s1","n":1}'):
            f.response.stream(chunk)
        f.response.content = b""  # what mitmproxy keeps of a streamed body
        asyncio.run(drive_response(addon, f))
        assert addon.tally.as_dict()["identical"] == 1


def test_connection_chatter_is_dropped_and_warnings_kept() -> None:
    quiet = streaming.ConnectionChatter()

    def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
        return logging.LogRecord("mitmproxy.proxy.server", level, __file__, 1, message, None, None)

    assert not quiet.filter(record("client connect"))
    assert not quiet.filter(record("client disconnect"))
    assert not quiet.filter(record("Streaming response from 127.0.0.1."))
    assert quiet.filter(record("client connect", logging.WARNING))
    assert quiet.filter(record("shadow proxy: mode cutover"))
