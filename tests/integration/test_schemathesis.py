"""Schemathesis in-process against the WSGI app on a real, seeded PostgreSQL: every phase, schemathesis.toml's checks.

The same settings drive the CLI run against gunicorn (tests/system/test_schemathesis_cli.py, python -m scripts.fuzz).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

import tests.support.schemathesis_hooks  # noqa: F401  (bundles are sent as text)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = SchemathesisConfig.from_path(str(ROOT / "schemathesis.toml"))


def load_demo(client) -> None:
    """The demo sessions, created through the API so their runs land as the runs extension writes them."""
    data = json.loads((ROOT / "tests" / "fuzz" / "demo_sessions.json").read_text(encoding="utf-8"))
    for entry in data["sessions"]:
        response = client.post(f"/sessions?type={entry['type']}", json=entry["body"])
        assert response.status_code == 201, response.data


@pytest.fixture
def api_schema(app):
    """The served spec, bound to this app, over a database holding the demo sessions."""
    load_demo(app.test_client())
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation(case) -> None:
    """Examples, coverage and fuzzing phases: positive and negative data, every configured check."""
    case.call_and_validate()


def test_stateful_links(api_schema, app, rows) -> None:
    """Create → read, rename, patch, runs, delete sequences through the spec's links, each scenario starting
    from the same rows (the data must not depend on earlier scenarios, or generation would not repeat)."""

    class Scenarios(api_schema.as_state_machine()):
        def setup(self) -> None:
            rows.execute("TRUNCATE ai.agno_runs, ai.agno_sessions")
            load_demo(app.test_client())

    Scenarios.run()
