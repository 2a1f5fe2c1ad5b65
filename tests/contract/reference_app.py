"""The real agno 3.1.10 AgentOS, configured from the environment, as the reference to compare against.

Run with the agno venv, from the repository root:
    REF_DB_URLS='[{"url": "postgresql+psycopg://postgres@/postgres?host=/tmp/agno-ref/pgdata"}]' \\
        /tmp/agno/bin/python -m uvicorn tests.contract.reference_app:app --host 127.0.0.1 --port 7777
or  python tests/contract/reference_app.py --port 7777

REF_DB_URLS is a JSON list of {"url", "schema"?, "session_table"?, "runs_table"?, "id"?}. The first db backs
agent "basic-agent", team "research-team" and workflow "content-workflow"; a second one backs agent
"second-agent" (two db ids make db_id mandatory on every /sessions route, contract §4.3). Without "id",
agno derives the db id as uuid5(NAMESPACE_DNS, f"{url}#{schema or 'ai'}") from the exact URL string
(contract §3.1); each id is printed at start. OS_SECURITY_KEY, if set, is read by AgentOS itself.

REF_JWT, if set, turns JWT authorization on: a JSON object with AgentOS's own settings ("algorithm",
"verify_audience", "audience", "issuer", "admin_scope", "user_isolation"); the key itself comes from
JWT_VERIFICATION_KEY / JWT_JWKS_FILE, read by AgentOS itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import Any

from agno.agent import Agent
from agno.db.postgres import PostgresDb
from agno.models.openai import OpenAIChat
from agno.os import AgentOS
from agno.team import Team
from agno.workflow import Step, Workflow
from fastapi import FastAPI

os.environ.setdefault("OPENAI_API_KEY", "sk-dummy-never-called")  # OpenAIChat needs a key; no call is made
os.environ.setdefault("AGNO_TELEMETRY", "false")


def load_db_specs() -> list[dict[str, Any]]:
    """Read REF_DB_URLS, failing loudly because a silent default would compare against the wrong data."""
    raw = os.environ.get("REF_DB_URLS")
    if not raw:
        sys.exit('REF_DB_URLS is required, e.g. \'[{"url": "postgresql+psycopg://postgres@/postgres?host=..."}]\'')
    specs = json.loads(raw)
    valid = isinstance(specs, list) and all(isinstance(s, dict) and s.get("url") for s in specs)
    if not valid or not specs:
        sys.exit("REF_DB_URLS must be a non-empty JSON list of objects, each with a 'url'")
    return specs


def make_db(spec: dict[str, Any]) -> PostgresDb:
    """One PostgresDb per spec; agno itself derives the id when none is given."""
    db = PostgresDb(db_url=spec["url"], db_schema=spec.get("schema"), session_table=spec.get("session_table"),
                    runs_table=spec.get("runs_table"), id=spec.get("id"))
    expected = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{spec['url']}#{spec.get('schema') or 'ai'}"))
    derived = "uuid5(url#schema)" if db.id == expected else "derived otherwise"
    origin = "given" if spec.get("id") else derived
    print(f"[reference_app] db id {db.id} ({origin}) -> {db.db_schema}.{db.session_table_name} / "
          f"{db.runs_table_name} @ {spec['url']}", flush=True)
    return db


def authorization_kwargs() -> dict[str, Any]:
    """AgentOS(...) arguments for JWT mode from REF_JWT: authorization=True with the (deprecated but supported)
    AuthorizationConfig, the way agentos-jwt.md was recorded; an issuer needs the newer Authorization object."""
    raw = os.environ.get("REF_JWT")
    if not raw:
        return {}
    from agno.os.config import AuthorizationConfig

    settings = json.loads(raw)
    isolation = bool(settings.pop("user_isolation", False))
    if settings.get("issuer"):
        from agno.os.authz import Authorization

        return {"authorization": Authorization(**settings), "user_isolation": isolation}
    return {"authorization": True, "authorization_config": AuthorizationConfig(**settings),
            "user_isolation": isolation}


def build_app() -> FastAPI:
    """Build the AgentOS the contract was recorded against: one agent, one team, one workflow."""
    dbs = [make_db(spec) for spec in load_db_specs()]
    model = OpenAIChat(id="gpt-4o")
    agent = Agent(id="basic-agent", name="Basic Agent", model=model, db=dbs[0])
    team = Team(id="research-team", name="Research Team", members=[agent], model=model, db=dbs[0])
    workflow = Workflow(id="content-workflow", name="Content Workflow", db=dbs[0],
                        steps=[Step(name="write", agent=agent)])
    agents = [agent]
    if len(dbs) > 1:
        agents.append(Agent(id="second-agent", name="Second Agent", model=model, db=dbs[1]))
    agent_os = AgentOS(id="reference-os", agents=agents, teams=[team], workflows=[workflow], telemetry=False,
                       **authorization_kwargs())
    return agent_os.get_app()


app = build_app()

if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the reference AgentOS.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777)
    cli = parser.parse_args()
    uvicorn.run(app, host=cli.host, port=cli.port)
