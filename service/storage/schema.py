"""agno's schema, tables and indexes: created where missing, never altered; and what a database holds."""

from __future__ import annotations

import psycopg2
from psycopg2 import sql

from service.storage import counts
from service.storage.pool import Database

TRGM_MISSING = ("pg_trgm cannot be created in database {db_id!r} ({reason}): the session_name search stays a "
                "sequential scan. Have the database owner or a superuser run CREATE EXTENSION pg_trgm there (or "
                "install PostgreSQL's contrib modules), then run `agno-session migrate --indexes` again.")


def table_exists(db: Database, table: str) -> bool:
    """Whether `table` exists in this database's schema (one read-only statement: a replica can answer it)."""
    row = db.read_one("table_exists", {"schema": db.config.schema, "table": table})
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


def create_tables(db: Database, indexes: bool = False) -> list[str]:
    """Create what is missing: agno's schema, tables and indexes; with `indexes`, this service's own indexes and
    session counts. Returns what
    the operator should know: an index that could not be created, and why."""
    notes = []
    with db.transaction() as cur:
        cur.execute(db.query("create_tables", **_index_names(db)))
        if indexes:
            s = db.config.session_table
            own = {f"ix_{k}": sql.Identifier(f"{s}_svc_{k}") for k in
                   ("user_id", "agent_id", "team_id", "workflow_id", "updated")}
            cur.execute(db.query("create_service_indexes", **own))
            counts.install(db, cur)
            cur.execute("SAVEPOINT trgm")  # without pg_trgm the rest still commits
            try:
                cur.execute(db.query("trgm_schema"))
                ops = sql.Identifier(cur.fetchone()["schema"], "gin_trgm_ops")
                cur.execute(db.query("create_name_search_index", ix_name=sql.Identifier(f"{s}_svc_name_trgm"),
                                     trgm_ops=ops))
                cur.execute("RELEASE SAVEPOINT trgm")
            except psycopg2.Error as exc:
                cur.execute("ROLLBACK TO SAVEPOINT trgm")
                reason = exc.diag.message_primary or type(exc).__name__
                notes.append(TRGM_MISSING.format(db_id=db.config.db_id, reason=reason))
    return notes


def table_columns(db: Database, table: str) -> list[str]:
    """The columns of `table` in this database's schema (empty when it does not exist)."""
    row = db.fetch_one("table_columns", {"schema": db.config.schema, "table": table})
    return (row or {}).get("columns") or []
