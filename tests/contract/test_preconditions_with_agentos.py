"""Extension `preconditions` against the real writers: a write by AgentOS (its HTTP API) or by agno's runtime
(PostgresDb.upsert_run, tests/contract/agno_writer.py) between agno-session's read and its If-Match write turns the
write into a 412 that writes nothing; re-read, the write with the new tag goes through."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from tests.contract import replay
from tests.contract.agno_client import T0, AgnoWriter
from tests.contract.harness import Cluster, Pair

SID, USER = "precondition-sess", "precondition-user"
CHANGED = b'{"detail":"Session has changed"}'


@pytest.fixture(autouse=True)
def _session(cluster: Cluster, agno: AgnoWriter) -> Iterator[None]:
    """A conversation agno started, with one run; the seed again afterwards for the other contract tests."""
    cluster.restore()
    agno("upsert_session", session_id=SID, user_id=USER, created_at=T0, name="Shared conversation")
    agno("upsert_run", session_id=SID, user_id=USER, run_id=f"{SID}-r0", index=0, created_at=T0 + 10)
    yield
    cluster.restore()


def send(url: str, method: str, target: str, body: object = None, **headers: str) -> replay.Response:
    data = None if body is None else json.dumps(body).encode()
    return replay.send(url, replay.Request(method, target, list(headers.items()), data))


def detail(pair: Pair) -> replay.Response:
    response = send(pair.b.url, "GET", f"/sessions/{SID}")
    assert response.status == 200, response.body[:300]
    return response


OUR_WRITES: dict[str, tuple[str, str, object]] = {
    "rename": ("POST", f"/sessions/{SID}/rename", {"session_name": "ours"}),
    "patch": ("PATCH", f"/sessions/{SID}", {"metadata": {"ours": True}}),
    "state": ("PATCH", f"/sessions/{SID}/state", {"ours": True}),
    "delete": ("DELETE", f"/sessions/{SID}", None),
}


def agentos_rename(pair: Pair, agno: AgnoWriter) -> None:
    response = send(pair.a.url, "POST", f"/sessions/{SID}/rename", {"session_name": "renamed by AgentOS"})
    assert response.status == 200, response.body[:300]


def agentos_patch(pair: Pair, agno: AgnoWriter) -> None:
    response = send(pair.a.url, "PATCH", f"/sessions/{SID}", {"session_state": {"by": "AgentOS"}})
    assert response.status == 200, response.body[:300]


def agno_appends_a_run(pair: Pair, agno: AgnoWriter) -> None:
    agno("upsert_run", session_id=SID, user_id=USER, run_id=f"{SID}-r1", index=1, created_at=T0 + 20)


def agno_updates_a_run(pair: Pair, agno: AgnoWriter) -> None:  # same run id: agno's ON CONFLICT DO UPDATE
    agno("upsert_run", session_id=SID, user_id=USER, run_id=f"{SID}-r0", index=0, created_at=T0 + 10,
         answer="a corrected answer")


INTERVENING: dict[str, Callable[[Pair, AgnoWriter], None]] = {
    "agentos-rename": agentos_rename, "agentos-patch": agentos_patch,
    "agno-appends-run": agno_appends_a_run, "agno-updates-run": agno_updates_a_run,
}


@pytest.mark.parametrize("ours", sorted(OUR_WRITES))
@pytest.mark.parametrize("theirs", sorted(INTERVENING))
def test_a_write_by_agentos_or_agno_between_read_and_write_is_412(pair, agno, ours: str, theirs: str) -> None:
    read = detail(pair).headers["etag"]
    INTERVENING[theirs](pair, agno)
    after_theirs = detail(pair)
    assert after_theirs.headers["etag"] != read
    tables = pair.databases[0].tables
    rows = tables.dump(pair.databases[0].dsn)
    method, target, body = OUR_WRITES[ours]
    refused = send(pair.b.url, method, target, body, **{"If-Match": read})
    assert (refused.status, refused.body) == (412, CHANGED)
    assert refused.headers["etag"] == after_theirs.headers["etag"]
    assert tables.dump(pair.databases[0].dsn) == rows  # nothing written
    accepted = send(pair.b.url, method, target, body, **{"If-Match": refused.headers["etag"]})
    assert accepted.status in (200, 204), accepted.body[:300]
