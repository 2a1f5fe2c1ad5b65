"""The control API as its own addon: its answers, and the two addons in shadow.py's order under mitmproxy's chain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from mitmproxy import eventsequence
from mitmproxy.addons.script import load_script
from mitmproxy.proxy.layers import http as http_layer
from mitmproxy.test import taddons, tflow

from proxy.addon import ShadowAddon
from proxy.control import ControlApi
from tests.proxy.unit.flows import configured, control

SCRIPT = Path(__file__).resolve().parents[3] / "proxy" / "shadow.py"


def test_control_api_summary_reset_and_sampling(tmp_path) -> None:
    addon = ShadowAddon()
    with taddons.context(addon) as tctx:
        configured(tctx, addon, tmp_path, shadow_control_port=8881)
        assert control(addon, "PUT", "/sampling", b'{"percent": 5}').status_code == 200
        assert addon.sampler.percent == 5
        bad = control(addon, "PUT", "/sampling", b'{"percent": 500}')
        assert bad.status_code == 422 and b"maximum" in bad.content
        assert json.loads(control(addon, "GET", "/summary").content)["sampling"]["percent"] == 5
        assert b"agno_shadow_requests" in control(addon, "GET", "/metrics").content
        assert control(addon, "POST", "/reset").status_code == 200
        assert b"<h1>" in control(addon, "GET", "/report").content
        assert control(addon, "GET", "/nope").status_code == 404


def test_shadow_py_lists_the_control_api_first_so_the_shadow_addon_leaves_its_flows_alone(tmp_path) -> None:
    addons = load_script(str(SCRIPT)).addons  # what mitmdump -s proxy/shadow.py loads, in its order
    assert [type(a) for a in addons] == [ControlApi, ShadowAddon]
    shadow = addons[1]
    with taddons.context(*addons) as tctx:
        configured(tctx, shadow, tmp_path, shadow_control_port=8881, shadow_mode="cutover")

        async def through_the_chain(f, events) -> None:
            for event in events:
                await tctx.master.addons.trigger_event(event)

        asked = tflow.tflow()
        asked.client_conn.sockname = ("127.0.0.1", 8881)
        asked.request.path = "/summary"
        asyncio.run(through_the_chain(asked, eventsequence.iterate(asked)))
        assert asked.response.status_code == 200 and json.loads(asked.response.content)["seen"] == 0
        assert "shadow_route" not in asked.metadata  # answered by the control API, untouched by the shadow addon

        routed = tflow.tflow()
        routed.request.path = "/sessions/s1"
        asyncio.run(through_the_chain(routed, [http_layer.HttpRequestHook(routed)]))
        assert routed.response is None and routed.request.port == 8080  # cut over, not answered by control
        routed.response = tflow.tresp()
        asyncio.run(through_the_chain(routed, [http_layer.HttpResponseHook(routed)]))
        assert shadow.tally.as_dict()["seen"] == 1
        assert b"(not routed)" not in shadow.metrics.exposition()
