"""agno's tables and indexes and this service's own, by name and statement; and what a database holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg2 import sql

from service.storage.pool import Database
from service.storage.queries import sql_text

TRGM_MISSING = ("pg_trgm cannot be created in database {db_id!r} ({reason}): the session_name search stays a "
                "sequential scan. Have the database owner or a superuser run CREATE EXTENSION pg_trgm there (or "
                "install PostgreSQL's contrib modules), then run `agno-session migrate --indexes` again.")
_INDEX_LINE = re.compile(r"^CREATE INDEX IF NOT EXISTS \{(\w+)\} ON \{(\w+)\} (.*);?$")


@dataclass(frozen=True)
class Index:
    """One index: its name, the table placeholder it belongs to (sessions, runs), and how to build it plainly
    (inside the transaction that created its table) or concurrently (on a table that already existed)."""

    name: str
    table: str
    plain: sql.Composed
    concurrent: sql.Composed


def table_exists(db: Database, table: str) -> bool:
    """Whether `table` exists in this database's schema (one read-only statement: a replica can answer it)."""
    row = db.read_one("table_exists", {"schema": db.config.schema, "table": table})
    return bool(row and row["present"])


def table_columns(db: Database, table: str) -> list[str]:
    """The columns of `table` in this database's schema (empty when it does not exist)."""
    row = db.fetch_one_in_transaction("table_columns", {"schema": db.config.schema, "table": table})
    return (row or {}).get("columns") or []


def _agno_index_names(db: Database) -> dict[str, str]:
    """agno's index naming: idx_<table>_<columns>."""
    s, r = db.config.session_table, db.config.runs_table
    names = {f"ix_sessions_{c}": f"idx_{s}_{c}" for c in ("created_at", "session_type")}
    names |= {
        f"ix_runs_{c}": f"idx_{r}_{c}"
        for c in ("agent_id", "created_at", "run_type", "session_id", "session_id_run_index", "status",
                  "team_id", "user_id", "workflow_id")
    }
    return names


def _service_index_names(db: Database) -> dict[str, str]:
    """This service's own indexes on the sessions table: <sessions>_svc_<what>."""
    s = db.config.session_table
    return {f"ix_{k}": f"{s}_svc_{k}" for k in ("user_id", "agent_id", "team_id", "workflow_id", "updated",
                                                           "metadata")}


def name_search_index(db: Database) -> str:
    """The trigram index's name (built only where pg_trgm exists)."""
    return f"{db.config.session_table}_svc_name_trgm"


def _indexes(db: Database, file: str, names: dict[str, str], **fragments: sql.Composable) -> list[Index]:
    """The indexes of one SQL file (one statement a line), with the names and fragments composed in."""
    found = []
    for line in sql_text(file).splitlines():
        match = _INDEX_LINE.match(line.strip())
        if match is None:
            continue
        placeholder, table, rest = match.groups()
        values = {**db.identifiers, **fragments, placeholder: sql.Identifier(names[placeholder])}
        plain, concurrent = (sql.SQL(f"CREATE INDEX {verb}IF NOT EXISTS {{{placeholder}}} ON {{{table}}} "
                                     f"{rest.rstrip(';')}").format(**values) for verb in ("", "CONCURRENTLY "))
        found.append(Index(names[placeholder], table, plain, concurrent))
    return found


def agno_indexes(db: Database) -> list[Index]:
    """agno's own indexes on its two tables, as its PostgresDb creates them."""
    return _indexes(db, "agno_indexes", _agno_index_names(db))


def service_indexes(db: Database) -> list[Index]:
    """This service's list indexes on the sessions table (`migrate --indexes`), without the trigram one."""
    return _indexes(db, "create_service_indexes", _service_index_names(db))


def trigram_index(db: Database, trgm_schema: str) -> Index:
    """The name search's trigram index, with pg_trgm's operator class from the schema that holds it."""
    (index,) = _indexes(db, "create_name_search_index", {"ix_name": name_search_index(db)},
                        trgm_ops=sql.Identifier(trgm_schema, "gin_trgm_ops"))
    return index


def all_index_names(db: Database) -> list[str]:
    """Every index name migrate may create in this database's schema."""
    return [*_agno_index_names(db).values(), *_service_index_names(db).values(), name_search_index(db)]
