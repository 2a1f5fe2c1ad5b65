"""The benchmark's routes: for each, the requests wrk sends (as a generated Lua script) to either server; and a
mixed load of several routes in turn (the soak)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .dataset import SEARCH_WORD, session_type, user_of


@dataclass(frozen=True)
class Route:
    """One benchmarked operation: a method, path templates rotated per request, an optional body template.

    In templates `{n}` is the request's ordinal in its wrk thread (in a mix: the cycle's, one cycle being one
    request of each route), `{tag}` the server's tag: writes that create ids stay distinct per server, and the
    delete route removes exactly what the create route made, in order (in a mix, some cycles behind).
    """

    name: str
    method: str
    paths: tuple[str, ...]
    body: str | None = None
    write: bool = False
    a_paths: tuple[str, ...] | None = None  # AgentOS's closest equivalent where the route is an extension
    a_body: str | None = None
    note: str = ""
    tags: tuple[str, ...] = field(default=())
    deletes_created: bool = False  # removes what `create` made: in a mix it trails the create by some cycles


def sample_ids(sessions: int, count: int = 400, kind: str = "agent") -> list[str]:
    """Session ids of one type spread evenly over the dataset (deterministic)."""
    step = max(1, sessions // count)
    ids = [f"bench-{i:07d}" for i in range(0, sessions, step) if session_type(i) == kind]
    return ids[:count] or [f"bench-{i:07d}" for i in range(min(sessions, 10)) if session_type(i) == kind]


def routes(sessions: int) -> list[Route]:
    """Every route of the issue, on ids and users that exist in a dataset of `sessions` sessions."""
    ids = sample_ids(sessions)
    users = sorted({user_of(i, sessions) for i in range(0, sessions, max(1, sessions // 200))})
    writable = ids[: max(1, len(ids) // 2)]  # PATCH/rename/state touch these; reads use all of them
    return [
        Route("list", "GET", ("/sessions",)),
        Route("list by user", "GET", tuple(f"/sessions?type=agent&user_id={u}" for u in users)),
        Route("name search", "GET", (f"/sessions?session_name={SEARCH_WORD}&type=agent",)),
        Route("list page 50", "GET", ("/sessions?page=50&limit=20&sort_by=updated_at",)),
        Route("detail", "GET", tuple(f"/sessions/{s}" for s in ids)),
        Route("runs", "GET", tuple(f"/sessions/{s}/runs" for s in ids)),
        Route("run-previews", "GET", tuple(f"/sessions/{s}/run-previews" for s in ids)),
        Route("single run", "GET", tuple(f"/sessions/{s}/runs/{s}-r0" for s in ids)),
        Route("create", "POST", ("/sessions?type=agent",), write=True,
              body='{"session_id": "bench-new-{tag}-{n}", "user_id": "user-new", "agent_id": "basic-agent", '
                   '"session_name": "New session {n}", "session_state": {"step": 0}}'),
        Route("PATCH", "PATCH", tuple(f"/sessions/{s}?type=agent" for s in writable), write=True,
              body='{"session_state": {"step": {n}, "tags": ["patched"]}, "metadata": {"rev": {n}}}'),
        Route("rename", "POST", tuple(f"/sessions/{s}/rename?type=agent" for s in writable), write=True,
              body='{"session_name": "Renamed {n}"}'),
        Route("state merge", "PATCH", tuple(f"/sessions/{s}/state" for s in writable), write=True,
              body='{"step": {n}, "tags": null}',
              a_paths=tuple(f"/sessions/{s}?type=agent" for s in writable),
              a_body='{"session_state": {"step": {n}}}',
              note="extension; AgentOS measured on its PATCH of session_state"),
        Route("delete", "DELETE", ("/sessions/bench-new-{tag}-{n}?type=agent",), write=True, deletes_created=True,
              note="deletes what `create` made, in order"),
    ]


# The framework floor: a route that touches no database, so its CPU per request is what the web stack alone costs.
FLOOR = Route("healthz", "GET", ("/healthz",), a_paths=("/health",),
              note="framework floor, no database (AgentOS measured on its /health)")


LUA = r"""
local mix = {%(mix)s}
local tag = %(tag)s
local fallback = %(fallback)d
local n = 0
local cycle = 0
local headers = {["Content-Type"] = "application/json"}

local function fill(s, k)
  if s == nil then return nil end
  return (s:gsub("{n}", tostring(k)):gsub("{tag}", tag))
end

function request()
  n = n + 1
  local i = (n - 1) %% #mix + 1
  if i == 1 then cycle = cycle + 1 end
  local e = mix[i]
  local k = cycle - e.lag
  if k < 1 then e, k = mix[fallback], cycle end
  return wrk.format(e.method, fill(e.paths[(k - 1) %% #e.paths + 1], k), headers, fill(e.body, k))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %%d, "duration_us": %%d, "status_errors": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "mean_us": %%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def lua_string(value: str | None) -> str:
    """A Lua literal for a string (JSON's escapes are valid Lua escapes for these ASCII templates) or nil."""
    return "nil" if value is None else json.dumps(value)


def mix_script(chosen: list[Route], tag: str, reference: bool, lag: int = 0) -> str:
    """The Lua script that makes wrk send one request of each route in turn (AgentOS's equivalents when
    `reference`). A route that deletes what `create` made trails it by `lag` cycles, so that its create has been
    answered; until then a read of the mix (else the first route) goes instead."""
    entries = []
    for route in chosen:
        paths = route.a_paths if reference and route.a_paths else route.paths
        body = route.a_body if reference and route.a_body else route.body
        lua_paths = ", ".join(lua_string(p) for p in paths)
        entries.append(f"{{method = {lua_string(route.method)}, paths = {{{lua_paths}}}, body = {lua_string(body)}, "
                       f"lag = {lag if route.deletes_created else 0}}}")
    fallback = next((i for i, r in enumerate(chosen, 1) if not r.write), 1)
    return LUA % {"mix": ",\n  ".join(entries), "tag": lua_string(tag), "fallback": fallback}


def wrk_script(route: Route, tag: str, reference: bool) -> str:
    """The Lua script that makes wrk send `route` (AgentOS's equivalent when `reference` and there is one)."""
    return mix_script([route], tag, reference)
