"""agno's schema, tables and indexes: created where missing, never altered; and what a database holds."""

from __future__ import annotations

from psycopg2 import sql

from service.storage.pool import Database


def table_exists(db: Database, table: str) -> bool:
    """Whether `table` exists in this database's schema."""
    row = db.fetch_one("table_exists", {"schema": db.config.schema, "table": table})
    return bool(row and row["present"])


def _index_names(db: Database) -> dict[str, sql.Identifier]:
    """agno's index naming: idx_<table>_<columns>."""
    s, r = db.config.session_table, db.config.runs_table
    names = {f"ix_sessions_{c}": f"idx_{s}_{c}" for c in ("created_at", "session_type")}
    names |= {
        f"ix_runs_{c}": f"idx_{r}_{c}"
        for c in ("agent_id", "created_at", "run_type", "session_id", "session_id_run_index", "status",
                  "team_id", "user_id", "workflow_id")
    }
    return {k: sql.Identifier(v) for k, v in names.items()}


def create_tables(db: Database, indexes: bool = False) -> None:
    """Create what is missing: agno's schema, tables and indexes; with `indexes`, this service's own."""
    with db.transaction() as cur:
        cur.execute(db.query("create_tables", **_index_names(db)))
        if indexes:
            s = db.config.session_table
            own = {f"ix_{k}": sql.Identifier(f"{s}_svc_{k}") for k in
                   ("user_id", "agent_id", "team_id", "workflow_id", "updated")}
            cur.execute(db.query("create_service_indexes", **own))


def table_columns(db: Database, table: str) -> list[str]:
    """The columns of `table` in this database's schema (empty when it does not exist)."""
    row = db.fetch_one("table_columns", {"schema": db.config.schema, "table": table})
    return (row or {}).get("columns") or []
