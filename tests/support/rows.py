"""Write rows exactly as agno's PostgresDb does (JSON null for included None, SQL NULL for the rest), and run one
statement on a connection of its own."""

from __future__ import annotations

import json
from typing import Any

import psycopg2
import psycopg2.extras

SQL_NULL = object()  # leave the column SQL NULL, as agno does for columns it does not write
TYPE_COLUMNS = {
    "agent": ("agent_id", "agent_data"),
    "team": ("team_id", "team_data"),
    "workflow": ("workflow_id", "workflow_data"),
}


class Rows:
    """Direct access to the test database's sessions and runs tables."""

    def __init__(self, dsn: str, schema: str = "ai", sessions: str = "agno_sessions", runs: str = "agno_runs"):
        self.dsn = dsn
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.schema, self.sessions, self.runs = schema, sessions, runs

    def close(self) -> None:
        self.conn.close()

    def _table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    def session(self, session_id: str, session_type: str = "agent", *, component_id: str | None = None,
                user_id: Any = None, created_at: int = 1767225600, updated_at: Any = "same",
                **json_columns: Any) -> None:
        """Insert a session row; JSON columns default to agno's baseline for the type (§3.4)."""
        id_col, data_col = TYPE_COLUMNS[session_type]
        columns: dict[str, Any] = {
            "session_id": session_id, "session_type": session_type, id_col: component_id,
            "user_id": user_id, "created_at": created_at,
            "updated_at": created_at if updated_at == "same" else updated_at,
        }
        baseline = {"session_data": None, data_col: None, "metadata": None, "summary": None}
        if session_type == "workflow":
            baseline |= {"session_data": {}, "workflow_data": {}, "metadata": {}}
        for name, value in (baseline | json_columns).items():
            columns[name] = None if value is SQL_NULL else psycopg2.extras.Json(value)
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        with self.conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self._table(self.sessions)} ({names}) VALUES ({marks})", list(columns.values()))

    def run(self, session_id: str, run_data: dict[str, Any], *, run_index: int | None = None,
            user_id: str | None = None, created_at: int | None = None) -> None:
        """Insert a run row the way `upsert_run` derives its columns from run_data."""
        if run_data.get("agent_id") or run_data.get("agent_name"):
            run_type = "agent"
        elif run_data.get("team_id") or run_data.get("team_name"):
            run_type = "team"
        else:
            run_type = "workflow"
        if run_index is None:
            run_index = run_data.get("run_index")
        created = created_at or run_data.get("created_at") or 1767225600
        with self.conn.cursor() as cur:
            if run_index is None:
                cur.execute(f"SELECT COALESCE(max(run_index) + 1, 0) FROM {self._table(self.runs)} "
                            "WHERE session_id = %s", (session_id,))
                run_index = cur.fetchone()[0]
            cur.execute(
                f"INSERT INTO {self._table(self.runs)} (run_id, session_id, run_type, agent_id, team_id, "
                "workflow_id, user_id, parent_run_id, status, run_index, run_data, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (run_data["run_id"], session_id, run_type, run_data.get("agent_id"), run_data.get("team_id"),
                 run_data.get("workflow_id"), user_id, run_data.get("parent_run_id"), run_data.get("status"),
                 run_index, json.dumps(run_data), created, created),
            )

    def execute(self, statement: str, params: Any = None) -> list[tuple]:
        """Run any SQL (schema changes, JSON-null tweaks) and return rows if it produced any."""
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def snapshot(self) -> tuple[list[tuple], list[tuple]]:
        """Both tables, every column as text, in key order: for "nothing changed" assertions."""
        return (
            self.execute(f"SELECT t::text FROM {self._table(self.sessions)} t ORDER BY session_id"),
            self.execute(f"SELECT t::text FROM {self._table(self.runs)} t ORDER BY run_id"),
        )

    def session_row(self, session_id: str) -> dict[str, Any] | None:
        """One session row with JSON columns as (jsonb_typeof, value) so JSON null and SQL NULL differ."""
        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(f"SELECT * FROM {self._table(self.sessions)} WHERE session_id = %s", (session_id,))
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                "SELECT jsonb_typeof(session_data) sd, jsonb_typeof(agent_data) ad, jsonb_typeof(team_data) td, "
                f"jsonb_typeof(workflow_data) wd, jsonb_typeof(metadata) md, jsonb_typeof(summary) su "
                f"FROM {self._table(self.sessions)} WHERE session_id = %s", (session_id,))
            row["json_types"] = dict(cur.fetchone())
            return dict(row)

    def run_ids(self, session_id: str) -> list[str]:
        """Run ids of a session in read order."""
        return [r[0] for r in self.execute(
            f"SELECT run_id FROM {self._table(self.runs)} WHERE session_id = %s ORDER BY run_index, created_at, run_id",
            (session_id,))]


def execute(dsn: str, statement: str, params: tuple | None = None) -> list[tuple]:
    """One statement in autocommit on a connection of its own: its rows, if it returns any."""
    conn = psycopg2.connect(dsn, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()
