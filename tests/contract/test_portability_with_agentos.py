"""Extension `portability` read back by the real AgentOS: every seeded session of the main database (written by
agno 3.1.10 itself, with its side rows) exported through agno-session's GET /sessions/{id}/export and imported
through POST /sessions/-/import into the second database (another schema and table names, emptied first) answers
AgentOS exactly as the original does: the list, each detail and its runs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2
import pytest
import requests

from tests.contract.harness import Cluster, Pair
from tests.support.side_tables import SIDE_TABLES


@pytest.fixture
def multi(cluster: Cluster) -> Iterator[Pair]:
    """The two-database pair, its second database emptied and given agno's side tables; both restored after."""
    pair = cluster.pairs["multi"]
    other = pair.databases[1]
    _execute(other.dsn, f'TRUNCATE "{other.tables.schema}"."{other.tables.sessions}" CASCADE')
    places = {"transcripts": "agno_transcripts", "compactions": "agno_compactions", "tool_results": "agno_tool_results"}
    created = []
    for name, statement in SIDE_TABLES.items():
        where = "fs.agno_fs" if name == "payloads" else f"{other.tables.schema}.{places[name]}"
        if _execute(other.dsn, f"SELECT to_regclass('{where}')")[0][0] is None:  # AgentOS may have created it
            _execute(other.dsn, statement.replace("ai.", f"{other.tables.schema}."))
            created.append(where)
    yield pair
    for where in created:
        _execute(other.dsn, f"DROP TABLE {where}")
    cluster.restore()


def _execute(dsn: str, statement: str) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _stable(body: object) -> object:
    """An answer without the values AgentOS generates per request (ids and times of messages stored without), and
    a list's rows by id: AgentOS's order among equal sort keys is the table's physical order (unspecified)."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return {**body, "data": sorted(body["data"], key=lambda row: row["session_id"])}
    if isinstance(body, dict) and isinstance(body.get("chat_history"), list):
        return {**body, "chat_history": [{k: v for k, v in m.items() if k not in ("id", "created_at")}
                                         for m in body["chat_history"]]}
    return body


def test_agentos_reads_imported_sessions_as_it_read_the_originals(multi: Pair) -> None:
    main, other = multi.databases
    ids = [r[0] for r in _execute(main.dsn, f'SELECT session_id FROM "{main.tables.schema}"."{main.tables.sessions}" '
                                            "ORDER BY 1")]
    assert len(ids) >= 5
    side = _execute(main.dsn, "SELECT count(*) FROM ai.agno_tool_results t JOIN ai.agno_sessions s USING (session_id)")[
        0][0]
    assert side > 0  # the seed's offloaded tool results of its sessions travel too (its orphans belong to none)
    for session_id in ids:
        exported = requests.get(f"{multi.b.url}/sessions/{session_id}/export", params={"db_id": main.db_id},
                                timeout=60)
        assert exported.status_code == 200, exported.text
        imported = requests.post(f"{multi.b.url}/sessions/-/import", params={"db_id": other.db_id},
                                 data=exported.content, headers={"Content-Type": "application/x-ndjson"}, timeout=60)
        assert imported.status_code == 200 and imported.json()["created"] == 1, imported.text
    assert _execute(other.dsn, f"SELECT count(*) FROM {other.tables.schema}.agno_tool_results")[0][0] == side
    for server in (multi.a, multi.b):  # the real AgentOS, and this service
        for path in ["/sessions?limit=100", "/sessions?limit=100&type=team", "/sessions?limit=100&type=workflow",
                     *[f"/sessions/{i}" for i in ids], *[f"/sessions/{i}/runs" for i in ids]]:
            sep = "&" if "?" in path else "?"
            original = requests.get(f"{server.url}{path}{sep}db_id={main.db_id}", timeout=60)
            copied = requests.get(f"{server.url}{path}{sep}db_id={other.db_id}", timeout=60)
            assert original.status_code == copied.status_code, (server.name, path)
            if original.headers.get("content-type", "").startswith("application/json"):
                assert _stable(json.loads(copied.content)) == _stable(json.loads(original.content)), (server.name,
                                                                                                    path)
            else:
                assert copied.content == original.content, (server.name, path)
