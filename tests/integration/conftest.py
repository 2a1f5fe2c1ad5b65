"""The real PostgreSQL and app fixtures (tests/support/fixtures.py) for the integration tests."""

from tests.support.fixtures import app, client, db_env, logged, make_app, pg_dsn, rows  # noqa: F401
