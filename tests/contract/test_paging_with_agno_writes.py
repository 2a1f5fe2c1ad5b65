"""Cursor pages while agno itself writes: between every two pages agno-session serves, agno 3.1.10's PostgresDb
appends runs, creates sessions and deletes them (tests/contract/agno_writer.py, one process for the whole walk).
Run cursors and list cursors must neither repeat nor skip a row, and afterwards the plain listings of agno-session
still equal the real AgentOS's, byte for byte."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from tests.contract import deviations, replay
from tests.contract.agno_client import T0
from tests.contract.harness import Cluster, Pair, check_read

NEXT = re.compile(r'^<(/sessions[^>]*)>; rel="next"$')
USER = "paged-user"


@pytest.fixture(autouse=True)
def _seeded(cluster: Cluster) -> Iterator[None]:
    """Every walk starts from the seed, and the other contract tests find it again afterwards."""
    cluster.restore()
    yield
    cluster.restore()


def _get(server_url: str, target: str) -> replay.Response:
    response = replay.send(server_url, replay.Request("GET", target))
    assert response.status == 200, (target, response.status, response.body[:300])
    return response


def _walk(pair: Pair, first: str, between: Callable[[list], None]) -> list[list]:
    """Every page of agno-session from `first` along its Link headers; `between(items)` runs after each page.
    List pages (an object with meta) must name the same next page in meta.next_cursor."""
    pages, target = [], first
    while target is not None:
        response = _get(pair.b.url, target)
        body = json.loads(response.body)
        items = body["data"] if isinstance(body, dict) else body
        link = response.headers.get("link")
        target = None if link is None else NEXT.match(link).group(1)
        if isinstance(body, dict):
            following = body["meta"]["next_cursor"]
            assert (target is None and following is None) or target.endswith("cursor=" + following), (link, body)
        else:
            assert response.headers["x-has-more"] == ("false" if target is None else "true")
        pages.append(items)
        between(items)
    return pages


def _same_on_both(pair: Pair, target: str, devs: list[deviations.Deviation], allowed: tuple[str, ...] = ()) -> None:
    """AgentOS and agno-session answer the same (status line, compared headers, body bytes), or differ only as a
    deviation in `allowed` declares."""
    assert check_read(pair, replay.Request("GET", target), devs) in (None, *allowed), target


def _run_id(sid: str, index: int) -> str:
    return f"{sid}-r{index}"


@pytest.mark.parametrize(("route", "order"), [("runs", ""), ("runs", "&order=desc"), ("run-previews", ""),
                                              ("run-previews", "&order=desc")])
def test_run_pages_never_repeat_or_skip_while_agno_appends_runs(pair, agno, devs, route, order) -> None:
    sid = f"paged-{route}{order.replace('&order=', '-')}"
    created = T0 + 40 * 3600
    agno("upsert_session", session_id=sid, user_id=USER, created_at=created, name="Paged conversation")
    count = 0

    def append(n: int) -> None:  # the next turns of the conversation, as agno stores them: the next run_index
        nonlocal count
        for _ in range(n):
            if count < 11:
                agno("upsert_run", session_id=sid, user_id=USER, run_id=_run_id(sid, count), index=count,
                     created_at=created + 10 * (count + 1))
                count += 1

    append(3)
    pages = _walk(pair, f"/sessions/{sid}/{route}?limit=2{order}", lambda _: append(2))
    shown = [run["run_id"] for page in pages for run in page]
    assert all(1 <= len(page) <= 2 for page in pages)
    if order:  # newest first starts from what existed: runs appended later are behind the position
        assert shown == [_run_id(sid, i) for i in (2, 1, 0)]
    else:  # oldest first reaches every appended run, each once, in order
        assert count == 11 and shown == [_run_id(sid, i) for i in range(11)]
    for target in (f"/sessions/{sid}/runs", f"/sessions/{sid}/run-previews", f"/sessions/{sid}"):
        _same_on_both(pair, target, devs)


def _key(row: dict, sort: str) -> int:
    """The epoch a listed row sorts by (updated_at falls back to created_at, as the list orders)."""
    stamp = (row.get("updated_at") if "updated_at" in sort else None) or row["created_at"]
    return int(datetime.fromisoformat(stamp).timestamp())


@pytest.mark.parametrize("sort", ["", "&sort_by=updated_at&sort_order=asc"])
def test_list_pages_never_repeat_or_skip_while_agno_adds_and_deletes_sessions(pair, agno, devs, sort) -> None:
    rows = json.loads(_get(pair.b.url, f"/sessions?limit=100{sort}").body)["data"]
    before = [row["session_id"] for row in rows]
    keys = {row["session_id"]: _key(row, sort) for row in rows}
    ascending = "asc" in sort
    shown: list[str] = []
    deleted: dict[str, bool] = {}  # deleted session -> whether it had been shown
    added: dict[str, str] = {}  # new session -> the last row shown when it was created (the walk's position then)

    def create(sid: str, key: int) -> None:
        agno("upsert_session", session_id=sid, user_id=USER, created_at=key)
        added[sid] = shown[-1]

    def delete(sid: str) -> None:
        assert agno("delete_session", session_id=sid)["deleted"], sid
        deleted[sid] = sid in shown

    def ahead(n: int) -> str:
        """The n-th row of the listing before the walk that is neither shown nor deleted yet: a row still ahead."""
        return [sid for sid in before if sid not in shown and sid not in deleted][n]

    later, earlier = (1, -1) if ascending else (-1, 1)  # a key step towards the list's end / towards its start
    steps = iter([
        lambda page: (delete(page[0]), create("paged-behind", keys[shown[-1]] + 1000 * earlier)),
        lambda page: (delete(ahead(1)), create("paged-ahead", keys[shown[-1]] + later)),
        # two rows with the position's own key: session_id places one before the position and one after it
        lambda page: (create("000-paged-tie", keys[shown[-1]]), create("zzz-paged-tie", keys[shown[-1]])),
        lambda page: (delete(ahead(0)), create("paged-end", keys[before[-1]])),  # ties the list's last row
    ])

    def between(page: list) -> None:
        shown.extend(row["session_id"] for row in page)
        step = next(steps, None)
        if step is not None and page:
            step([row["session_id"] for row in page])

    pages = _walk(pair, f"/sessions?cursor=&limit=3{sort}", between)
    assert next(steps, None) is None, "the walk ended before every write was made"
    assert all(len(page) <= 3 for page in pages)
    assert len(shown) == len(set(shown)), "a row was shown twice"
    assert set(before) - set(deleted) <= set(shown), "a row present throughout was skipped"
    final = [row["session_id"] for row in json.loads(_get(pair.b.url, f"/sessions?limit=100{sort}").body)["data"]]
    place = {sid: i for i, sid in enumerate(final)}
    assert [s for s in shown if s in place] == sorted((s for s in shown if s in place), key=place.get)
    for sid, position in added.items():  # a new row is shown exactly when it lies ahead of the walk's position
        assert (sid in shown) == (place[sid] > place[position]), (sid, position)
    assert {"paged-ahead", "paged-end"} <= set(shown) and "paged-behind" not in shown
    assert ("000-paged-tie" in shown) != ("zzz-paged-tie" in shown), "one tie lies behind the position, one ahead"
    assert not {sid for sid, was_shown in deleted.items() if not was_shown} & set(shown), "a deleted row was shown"
    for target in (f"/sessions?limit=100{sort}", "/sessions", f"/sessions?limit=3&page=2{sort}",
                   "/sessions/paged-ahead"):
        # AgentOS leaves rows with equal keys in any order (declared `tie-order`; with sort_by= the first declaration
        # matching the target, `unknown-sort`, names the same reordering): only declared reorderings may differ.
        _same_on_both(pair, target, devs, allowed=tuple(d.name for d in devs if "reordered" in d.expect))
