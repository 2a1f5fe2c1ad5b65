"""GET /sessions/{id}?history_around=<message>&history_limit=N (extension `history-window` v2), the deep link of a
search hit, against a real PostgreSQL: the window centred on the message by stored id or by `run#index`, its Link
to older (history_before) and newer (history_after) pages walking to exactly chat_history, and its 404."""

from __future__ import annotations

import re

import pytest

from tests.support.rows import Rows

NOW = 1767225600
LINKS = re.compile(r'<(/sessions/[^>]+)>; rel="(prev|next)"')


def _seed(rows: Rows) -> None:
    """Nine runs of user, tool and assistant messages (every third run carries one over from history); the
    assistant messages of odd runs have no stored id."""
    rows.session("s1", "agent", component_id="c1", user_id="alice")
    for n in range(9):
        answer = {"role": "assistant", "content": f"answer {n}", "created_at": NOW + n}
        if n % 2 == 0:
            answer["id"] = f"a{n}"
        messages = [{"id": f"sys{n}", "role": "system", "content": "sys"},
                    {"id": f"u{n}", "role": "user", "content": f"question {n}", "created_at": NOW + n},
                    {"id": f"t{n}", "role": "tool", "content": "tool"}, answer]
        if n % 3 == 1:
            messages.append({"id": f"old{n}", "role": "user", "content": "carried", "from_history": True})
        rows.run("s1", {"run_id": f"r{n}", "agent_id": "c1", "status": "COMPLETED", "messages": messages},
                 created_at=NOW + n)


def _contents(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [m["content"] for m in response.get_json()["chat_history"]]


def _links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINKS.findall(response.headers.get("Link", ""))}


@pytest.fixture
def everything(client, rows) -> list[str]:
    _seed(rows)
    return _contents(client.get("/sessions/s1"))


def test_the_window_is_centred_on_the_message_and_links_both_ways(client, everything) -> None:
    assert len(everything) == 18
    centre = everything.index("question 4")
    response = client.get("/sessions/s1?history_around=u4&history_limit=5")
    assert _contents(response) == everything[centre - 2:centre + 3]
    assert response.headers["Agno-Session-Applied"] == "history_limit,history_around"
    links = _links(response)
    assert set(links) == {"prev", "next"} and "history_around" not in links["prev"] + links["next"]
    assert _contents(client.get(links["prev"])) == everything[centre - 7:centre - 2]
    walked, url = [], links["next"]
    while url:  # newer pages, walked to the end: every later message once
        page = client.get(url)
        walked += _contents(page)
        url = _links(page).get("next")
    assert walked == everything[centre + 3:]
    whole = client.get("/sessions/s1")
    assert {k: v for k, v in response.get_json().items() if k != "chat_history"} == {
        k: v for k, v in whole.get_json().items() if k != "chat_history"}


def test_a_message_without_an_id_is_found_by_its_run_and_position(client, everything) -> None:
    response = client.get("/sessions/s1?history_around=r3%233&history_limit=3")
    centre = everything.index("answer 3")
    assert _contents(response) == everything[centre - 1:centre + 2]
    hit = client.get("/sessions/-/search?q=answer+3").get_json()["data"][0]
    assert hit["message"] == "r3#3"  # the search hit's reference is what the deep link takes
    assert _contents(client.get(f"/sessions/{hit['session_id']}?history_around=r3%233&history_limit=3")) == \
        _contents(response)
    by_position = client.get("/sessions/s1?history_around=r4%231&history_limit=1")  # a stored id's message too
    assert _contents(by_position) == ["question 4"] and "Link" in by_position.headers


def test_near_either_end_the_window_keeps_its_size(client, everything) -> None:
    first = client.get("/sessions/s1?history_around=u0&history_limit=5")
    assert _contents(first) == everything[:5] and set(_links(first)) == {"next"}
    last = client.get("/sessions/s1?history_around=a8&history_limit=4")
    assert _contents(last) == everything[-4:] and set(_links(last)) == {"prev"}
    alone = client.get("/sessions/s1?history_around=u5&history_limit=100")
    assert _contents(alone) == everything and "Link" not in alone.headers
    assert _contents(client.get("/sessions/s1?history_around=u5&history_limit=0")) == []
    even = client.get("/sessions/s1?history_around=u4&history_limit=4")
    centre = everything.index("question 4")
    assert _contents(even) == everything[centre - 2:centre + 2]  # one more before than after


@pytest.mark.parametrize("reference", ["nope", "sys4", "t4", "old4", "r4%230", "r4%232", "r4%239", "r99%231",
                                       "u4%00", "%23", "r4%23-1", "r4%231x"])
def test_a_reference_chat_history_does_not_show_is_404(client, everything, reference) -> None:
    response = client.get(f"/sessions/s1?history_around={reference}&history_limit=3")
    from urllib.parse import unquote
    assert response.status_code == 404
    assert response.get_json() == {"detail": f"Message '{unquote(reference)}' not found in session 's1'"}


def test_rules_between_the_window_parameters(client, everything) -> None:
    alone = client.get("/sessions/s1?history_around=u4")
    assert (alone.status_code, alone.get_json()) == (400, {"detail": "history_around needs history_limit"})
    cursor = _links(client.get("/sessions/s1?history_around=u4&history_limit=2"))["prev"].split(
        "history_before=")[1]
    both = client.get(f"/sessions/s1?history_around=u4&history_limit=2&history_before={cursor}")
    assert (both.status_code, both.get_json()) == (
        400, {"detail": "history_before, history_after and history_around cannot be combined"})
    assert client.get(f"/sessions/s1?history_after={cursor}").status_code == 400
    assert client.get("/sessions/s1?history_after=x.y&history_limit=2").get_json() == {"detail": "Invalid cursor"}
    missing = client.get("/sessions/nobody?history_around=u4&history_limit=2")
    assert (missing.status_code, missing.get_json()) == (404, {"detail": "Session with id 'nobody' not found"})
