"""The search index sees what agno 3.1.10 itself writes: a run stored through agno's own PostgresDb (upsert_session,
upsert_run, as AgentOS stores every run) is found by the index's search as soon as agno's write has committed (its
trigger queued it; the drain then writes its rows), and agno's delete_session leaves no row behind. Its own small
PostgreSQL, not the contract cluster: only agno writes here."""

from __future__ import annotations

import io
from collections.abc import Iterator

import psycopg2
import pytest

from service.cli import migrate
from service.core.config import load_settings
from service.storage import search
from service.storage.registry import open_database
from service.storage.search_terms import INDEX, Search
from tests.contract.agno_client import T0, AgnoWriter, reference_python
from tests.contract.harness import Database
from tests.contract.tables import Tables
from tests.support.own_postgres import own_postgres
from tests.support.search_rows import drain


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    """An embedded PostgreSQL with agno's tables (created by agno's first write) and the search index."""
    with own_postgres("agno-search-contract-") as dsn:
        yield Database(dsn.replace("postgresql://", "postgresql+psycopg://", 1), Tables())


@pytest.fixture(scope="module")
def agno(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgnoWriter]:
    writer = AgnoWriter(reference_python(), database, tmp_path_factory.mktemp("agno-search") / "agno-writer.log")
    yield writer
    writer.close()


def indexed(dsn: str, query: str) -> list[tuple]:
    """The search index's own rows matching `query` (what a drain has written)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT session_id, run_id, position, role FROM ai.agno_sessions_svc_search "
                        "WHERE document @@ plainto_tsquery('simple', %s) ORDER BY 1, 2, 3", (query,))
            return cur.fetchall()
    finally:
        conn.close()


def found(dsn: str, query: str) -> list[tuple]:
    """What the message search answers from the index now (the route's own statement)."""
    (config,) = load_settings({"AGNO_PG_DSN": dsn}).databases
    db = open_database(config, 1, 30.0)
    try:
        assert search.search_way(db, "simple") == (INDEX, "simple")
        hits = search.message_hits(db, Search(query, "words", {}, "simple", 20))
        return sorted((h["session_id"], h["run_id"], h["position"], h["role"]) for h in hits)
    finally:
        db.close()


def test_what_agno_writes_is_searchable_once_committed_and_gone_with_its_session(database, agno):
    agno("upsert_session", session_id="first", user_id="u1", created_at=T0)  # agno creates its tables here
    out = io.StringIO()
    migrate(load_settings({"AGNO_PG_DSN": database.dsn}), search=True, out=out)
    assert "marked complete" in out.getvalue()
    agno("upsert_session", session_id="s-search", user_id="u1", created_at=T0, name="Quarterly planning")
    agno("upsert_run", session_id="s-search", user_id="u1", run_id="r-1", index=0, created_at=T0 + 10,
         prompt="where is my zeppelin invoice", answer="your zeppelin invoice was mailed")
    # agno has answered: its transaction committed, and the search finds the run (queued, read afresh) at once.
    zeppelin = [("s-search", "r-1", 1, "user"), ("s-search", "r-1", 2, "assistant")]
    assert found(database.dsn, "zeppelin") == zeppelin
    assert indexed(database.dsn, "zeppelin") == []  # not yet drained: agno's write only queued it
    assert indexed(database.dsn, "quarterly") == [("s-search", "", -1, None)]
    assert drain(database.dsn) == 1
    assert indexed(database.dsn, "zeppelin") == zeppelin == found(database.dsn, "zeppelin")
    # agno rewrites the run (upsert_run again): the search follows at once, the rows after the drain.
    agno("upsert_run", session_id="s-search", user_id="u1", run_id="r-1", index=0, created_at=T0 + 10,
         prompt="a different question", answer="a different answer")
    assert found(database.dsn, "zeppelin") == []
    assert found(database.dsn, "different") == [("s-search", "r-1", 1, "user"), ("s-search", "r-1", 2, "assistant")]
    assert drain(database.dsn) == 1
    assert indexed(database.dsn, "zeppelin") == []
    assert indexed(database.dsn, "different") == found(database.dsn, "different")
    agno("upsert_run", session_id="s-search", user_id="u1", run_id="r-2", index=1, created_at=T0 + 20,
         prompt="queued when deleted", answer="never drained")
    agno("delete_session", session_id="s-search")
    assert found(database.dsn, "different") == found(database.dsn, "queued") == []
    conn = psycopg2.connect(database.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM ai.agno_sessions_svc_search WHERE session_id = 's-search'")
            assert cur.fetchone() == (0,)
            cur.execute("SELECT count(*) FROM ai.agno_sessions_svc_search_pending")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()
