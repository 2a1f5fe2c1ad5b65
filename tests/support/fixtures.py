"""Fixtures for tests against a real PostgreSQL (AGNO_TEST_PG_DSN, or an embedded one started here) and a fresh
app; tests/integration and tests/system import them into their conftest, tests/unit never sees them."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import psycopg2
import pytest

from service.app import create_app
from service.core.config import load_settings
from service.core.logs import LOGGER
from tests.support.own_postgres import own_postgres
from tests.support.rows import Rows


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A libpq DSN for a real server: the one the environment names, else an embedded one for this run."""
    if os.environ.get("AGNO_TEST_PG_DSN"):
        yield os.environ["AGNO_TEST_PG_DSN"]
        return
    with own_postgres("agno-session-test-") as dsn:
        yield dsn


def _reset(dsn: str, schemas: tuple[str, ...]) -> None:
    """Drop the test schemas so every test starts from empty tables."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for schema in schemas:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


@pytest.fixture
def make_app(pg_dsn: str):
    """Build an app from environment-style settings against the test server, tables created."""
    from service.cli import migrate

    apps = []

    def build(**env: str):
        settings = load_settings({"AGNO_PG_DSN": pg_dsn, **env})
        migrate(settings)
        app = create_app(settings)
        app.testing = True
        apps.append(app)
        return app

    _reset(pg_dsn, ("ai", "ai2", "legacy"))
    yield build
    for app in apps:
        app.config["REGISTRY"].close()


@pytest.fixture
def app(make_app):
    """The single-database app on schema `ai` with agno's default table names."""
    return make_app()


@pytest.fixture
def client(app):
    """A Flask test client for the default app."""
    return app.test_client()


@pytest.fixture
def rows(pg_dsn: str, app) -> Iterator[Rows]:
    """Write and read rows directly, the way agno's PostgresDb writes them."""
    helper = Rows(pg_dsn)
    yield helper
    helper.close()


@pytest.fixture
def db_env(make_app, pg_dsn: str) -> dict[str, str]:
    """The test server, schema `ai` emptied (by make_app's reset) and left for `serve` to migrate."""
    return {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv"}


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """The service's log records (its logger does not propagate to pytest's)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
