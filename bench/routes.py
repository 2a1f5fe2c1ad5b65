"""The benchmark's routes: for each, the requests wrk sends (as a generated Lua script) to either server; and a
mixed load of several routes in turn (the soak)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .dataset import LONG_RUNS, SEARCH_WORD, T0, TIERS, long_session_id, session_type, user_of


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
    applies: str = ""  # the extension parameter agno-session's Agno-Session-Applied must name (else: not built)
    walk: int = 0  # next-page hops from paths[0] before the load (agno-session), which then loads the page reached
    walk_by: str = ""  # how to find the next page: "link" (Link rel="next") or "next_cursor" (meta.next_cursor)
    group: str = ""  # the extension routes' group (bench/extensions.py --groups)


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


def runs_label(runs: int) -> str:
    """50 → 50, 5000 → 5k, 50000 → 50k."""
    return f"{runs // 1000}k" if runs >= 1000 else str(runs)


def bounded_read_routes() -> list[Route]:
    """Items 1 and 2 of issue 19 on the long sessions: the detail's history window and run pages, against
    AgentOS's whole detail and whole /runs of the same session."""
    out = []
    for runs in LONG_RUNS:
        sid, label = long_session_id(runs), runs_label(runs)
        out.append(Route(f"detail history_limit=20 @{label}", "GET", (f"/sessions/{sid}?history_limit=20",),
                         a_paths=(f"/sessions/{sid}",), applies="history_limit", group="bounded",
                         note="extension; AgentOS measured on its whole detail"))
        out.append(Route(f"runs limit=20 @{label}", "GET", (f"/sessions/{sid}/runs?limit=20",),
                         a_paths=(f"/sessions/{sid}/runs",), applies="limit", group="bounded",
                         note="extension; AgentOS measured on its whole /runs"))
        if runs >= 100 * 20:
            out.append(Route(f"runs page 100 @{label}", "GET", (f"/sessions/{sid}/runs?limit=20",),
                             a_paths=(f"/sessions/{sid}/runs",), applies="limit", walk=99, walk_by="link",
                             group="bounded", note="extension, reached by 99 Link rel=next hops; AgentOS measured "
                                                   "on its whole /runs"))
    return out


def deep_pages(sessions: int, per_page: int = 20) -> list[int]:
    """The deep list pages measured by cursor: the 1,000th, and the 50,000th at 1M sessions (smaller datasets:
    their middle page)."""
    pages = [p for p in (1000, 50_000) if p * per_page <= sessions]
    return pages or [max(2, sessions // per_page // 2)]


def list_routes(sessions: int) -> list[Route]:
    """Items 3-5 of issue 19 on the list: cursor pages, totals, shaped rows, metadata and date filters, against
    AgentOS's offset page or its plain list (it has none of them)."""
    users = sorted({user_of(i, sessions) for i in range(0, sessions, max(1, sessions // 200))})
    by_user = tuple(f"/sessions?type=agent&user_id={u}" for u in users)
    span = sessions * 60  # the generated sessions were created a minute apart, ending at T0
    hours = [T0 - span + (2 * k + 1) * span // 16 for k in range(8)]
    include = "run_count,last_run_at,last_run_status,last_message,total_tokens"
    out = [Route("list page 1 (cursor)", "GET", ("/sessions?cursor=&limit=20",), a_paths=("/sessions?page=1&limit=20",),
                 applies="cursor", group="lists", note="extension; AgentOS measured on its offset page 1"),
           Route("list page 1 (cursor, include_total=false)", "GET",
                 ("/sessions?cursor=&limit=20&include_total=false",), a_paths=("/sessions?page=1&limit=20",),
                 applies="include_total", group="lists", note="extension; AgentOS measured on its offset page 1")]
    out += [Route(f"list page {p} (cursor)", "GET", ("/sessions?cursor=&limit=20",),
                  a_paths=(f"/sessions?page={p}&limit=20",), applies="cursor", walk=p - 1, walk_by="next_cursor",
                  group="lists", note=f"extension, reached by {p - 1} meta.next_cursor hops; AgentOS measured on its "
                                      f"offset page {p}") for p in deep_pages(sessions)]
    out += [Route("list plain", "GET", ("/sessions?limit=20",), group="lists"),
            Route("list include", "GET", (f"/sessions?limit=20&include={include}",), a_paths=("/sessions?limit=20",),
                  applies="include", group="lists",
                  note="extension; AgentOS has no such keys (a UI calls its detail per row): measured on its "
                       "plain page"),
            Route("list include (no last_message)", "GET",
                  (f"/sessions?limit=20&include={include.replace('last_message,', '')}",),
                  a_paths=("/sessions?limit=20",), applies="include", group="lists",
                  note="extension; the keys read from the runs' index and columns only (last_message reads each "
                       "row's newest run_data): measured on AgentOS's plain page"),
            Route("list fields", "GET", ("/sessions?limit=20&fields=session_id,session_name,updated_at",),
                  a_paths=("/sessions?limit=20",), applies="fields", group="lists",
                  note="extension; AgentOS measured on its plain page"),
            Route("list metadata.tier", "GET", tuple(f"/sessions?metadata.tier={t}" for t, _ in TIERS),
                  a_paths=("/sessions?type=agent",), applies="metadata.*", group="lists",
                  note="extension; AgentOS has no metadata filter: measured on its plain list by type"),
            Route("list metadata.tier (include_total=false)", "GET",
                  tuple(f"/sessions?metadata.tier={t}&include_total=false" for t, _ in TIERS),
                  a_paths=("/sessions?type=agent",), applies="metadata.*", group="lists",
                  note="extension, the page without its total (the count reads every session of the tier); "
                       "AgentOS measured on its plain list by type"),
            Route("list created range", "GET",
                  tuple(f"/sessions?created_after={h}&created_before={h + 3600}" for h in hours),
                  a_paths=by_user, applies="created_after", group="lists",
                  note="extension (one-hour windows); AgentOS has no date filter: measured on its list by user"),
            Route("list updated_after", "GET",
                  tuple(f"/sessions?updated_after={T0 - 3600 * h}" for h in (1, 6, 24, 72)),
                  a_paths=by_user, applies="updated_after", group="lists",
                  note="extension; AgentOS has no date filter: measured on its list by user")]
    return out


def extension_routes(sessions: int) -> list[Route]:
    """Every route of the extensions' benchmark (bench/extensions.py), on the extension data of bench.dataset."""
    return bounded_read_routes() + list_routes(sessions)


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
