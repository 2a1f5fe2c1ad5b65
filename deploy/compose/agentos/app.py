"""AgentOS 3.1.10 on the compose stack's database: one agent, so its /sessions routes serve agno's tables."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from agno.agent import Agent
from agno.db.postgres import PostgresDb
from agno.models.openai import OpenAIChat
from agno.os import AgentOS


def dsn() -> str:
    """The same DSN secret the session service reads, in SQLAlchemy's psycopg form."""
    raw = Path(os.environ.get("AGNO_PG_DSN_FILE", "/run/secrets/agno_pg_dsn")).read_text(encoding="utf-8").strip()
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def main() -> None:
    """Serve AgentOS on :7777."""
    db = PostgresDb(db_url=dsn(), id=os.environ.get("AGNO_DB_ID", "compose"))
    agent = Agent(id="assistant", name="Assistant", model=OpenAIChat(id="gpt-4o"), db=db)
    app = AgentOS(id="compose-os", agents=[agent], telemetry=False).get_app()
    uvicorn.run(app, host="0.0.0.0", port=7777)


if __name__ == "__main__":
    main()
