"""One function per SQL file: typed values in, plain row dicts out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from service.db import Database
from service.render import merge_legacy_runs
from service.responses import dumps
from service.writes import JSON_NULL

SESSION_COLUMNS = (
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
    "agent_data", "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at",
)
BIGINT_MAX = 2**63 - 1
JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")


def _bind_json(value: Any) -> Json | None:
    """SQL NULL for None, JSON null for JSON_NULL, JSONB otherwise."""
    if value is None:
        return None
    return jsonb(None if value is JSON_NULL else value)


class RunConflict(Exception):
    """A preloaded run's id is already taken (or repeated): the whole create is rolled back."""

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__(run_ids)
        self.run_ids = run_ids


def jsonb(value: Any) -> Json:
    """Bind a value as JSONB, where Python None becomes JSON null as agno's writes do."""
    return Json(value, dumps=lambda v: dumps(v).decode("utf-8"))


def with_runs(db: Database, row: dict | None) -> dict | None:
    """Attach `runs` (run_data dicts in read order), merging a legacy 2.x blob when the table has one."""
    if row is None:
        return None
    runs = row.pop("run_list", None) or []
    if "runs" in row:
        runs = merge_legacy_runs(runs, row.pop("runs"))
    row["runs"] = runs
    return row


def order_clause(sort_by: str, sort_order: str) -> sql.Composable:
    """ORDER BY for the list: a real column (updated_at falls back to created_at), session_id breaking ties."""
    direction = sql.SQL("ASC" if sort_order == "asc" else "DESC")
    tie = sql.SQL("session_id {}").format(direction)
    if sort_by not in SESSION_COLUMNS or sort_by == "session_id":
        return tie
    if sort_by == "updated_at":
        key = sql.SQL("COALESCE(updated_at, created_at)")
    else:
        key = sql.Identifier(sort_by)
    return sql.SQL("{} {}, {}").format(key, direction, tie)


def list_sessions(db: Database, filters: dict[str, Any], sort_by: str, sort_order: str, limit: int, page: int
                  ) -> tuple[int, list[dict]]:
    """The total under the filters and one page of rows, each with `name_run` for name derivation."""
    offset = min((page - 1) * limit, BIGINT_MAX)  # past bigint is past any data: an empty page, not an error
    params = {**filters, "limit": limit, "offset": offset}
    rows = db.fetch_all("list_sessions", params, order_by=order_clause(sort_by, sort_order))
    total = rows[0]["total_count"] if rows else 0
    page_rows = [r for r in rows if r["session_id"] is not None]
    for row in page_rows:
        row.pop("total_count", None)
    if page_rows and "runs" in page_rows[0]:
        _attach_page_runs(db, page_rows)
    return total, page_rows


def _attach_page_runs(db: Database, rows: list[dict]) -> None:
    """Legacy tables only: names may come from the 2.x blob, so merge each session's runs in full."""
    found = db.fetch_all("page_runs", {"session_ids": [r["session_id"] for r in rows]})
    by_session = {r["session_id"]: r["run_list"] for r in found}
    for row in rows:
        row["run_list"] = by_session.get(row["session_id"], [])
        with_runs(db, row)


def get_session(db: Database, session_id: str, user_id: str | None) -> dict | None:
    """A session row with its runs, or None."""
    row = db.fetch_one("get_session", {"session_id": session_id, "user_id": user_id}, lock=sql.SQL(""))
    return with_runs(db, row)


def get_run(db: Database, session_id: str, run_id: str, user_id: str | None) -> dict | None:
    """A session row with `has_runs` and `run` (the asked-for run_data or None), or None."""
    # AgentOS finds the run in Python: a run id PostgreSQL cannot hold (NUL) is simply not found.
    bound_run_id = None if "\x00" in run_id else run_id
    row = db.fetch_one("get_run", {"session_id": session_id, "run_id": bound_run_id, "user_id": user_id})
    if row is not None and "runs" in row:  # agno 2.x legacy blob: its runs count too, the runs table wins
        legacy = merge_legacy_runs([], row.pop("runs"))
        row["has_runs"] = row["has_runs"] or bool(legacy)
        if row["run"] is None:
            row["run"] = next((r for r in legacy if r.get("run_id") == run_id), None)
    return row


def create_session(db: Database, values: dict[str, Any], runs: list[dict[str, Any]]) -> dict | None:
    """Insert a session (and preloaded run rows) in one transaction; None when the id is taken."""
    params = {c: values.get(c) for c in SESSION_COLUMNS if c != "updated_at"}
    params |= {c: _bind_json(params[c]) for c in JSON_COLUMNS}
    with db.transaction() as cur:
        cur.execute(db.query("insert_session"), params)
        row = cur.fetchone()
        if row is None:
            return None
        if runs:
            template = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            inserted = execute_values(
                cur,
                db.query("insert_runs").as_string(cur),
                [(
                    r["run_id"], row["session_id"], r["run_type"], r["agent_id"], r["team_id"], r["workflow_id"],
                    r["user_id"], r["parent_run_id"], r["status"], r["run_index"], jsonb(r["run_data"]),
                    r["created_at"], r["updated_at"],
                ) for r in runs],
                template=template,
                fetch=True,
            )
            if len(inserted) < len(runs):
                raise RunConflict(_conflicting([r["run_id"] for r in runs], {r["run_id"] for r in inserted}))
    row["runs"] = [r["run_data"] for r in sorted(runs, key=_run_order)]
    return row


def _conflicting(requested: list[str], written: set[str]) -> list[str]:
    """Run ids that were not written: taken by another row, or repeated in the request."""
    seen: set[str] = set()
    conflicts = []
    for run_id in requested:
        if run_id not in written or run_id in seen:
            conflicts.append(run_id)
        seen.add(run_id)
    return conflicts


def _run_order(run: dict[str, Any]) -> tuple:
    """agno's read order for runs: run_index (NULLs last), created_at, run_id."""
    index = run["run_index"]
    return (index is None, index or 0, run["created_at"], run["run_id"])


def rename_session(db: Database, session_id: str, session_type: str | None, user_id: str | None, name: str
                   ) -> dict | None:
    """Store a new session_name; None when no session matches id, type and user."""
    row = db.fetch_one(
        "rename_session",
        {"session_id": session_id, "session_type": session_type, "user_id": user_id, "name": name},
    )
    return with_runs(db, row)


def _update_locked(db: Database, session_id: str, user_id: str | None,
                   plan: Callable[[dict], tuple[sql.Composable, dict[str, Any]]]) -> dict | None:
    """Lock the row (concurrent writers queue here, each reading what the one before wrote), let `plan(row)` say
    which UPDATE to run, run it in the same transaction; the updated row with the runs read under the lock."""
    with db.transaction() as cur:
        locked = db.query("get_session", lock=sql.SQL("FOR UPDATE OF s"))
        cur.execute(locked, {"session_id": session_id, "user_id": user_id})
        row = with_runs(db, cur.fetchone())
        if row is None:
            return None
        statement, params = plan(row)
        cur.execute(statement, {**params, "session_id": session_id})
        updated = cur.fetchone()
    updated.pop("runs", None)
    updated["runs"] = row["runs"]
    return updated


def patch_session(db: Database, session_id: str, user_id: str | None,
                  compute: Callable[[dict], dict[str, Any]]) -> dict | None:
    """Read-lock-write in one transaction: `compute(row)` returns the columns to write, as agno's upsert would."""

    def plan(row: dict) -> tuple[sql.Composable, dict[str, Any]]:
        change = compute(row)
        kind = change.pop("kind")
        params = {k: (jsonb(v) if k in JSON_COLUMNS or k == "component_data" else v) for k, v in change.items()}
        statement = db.query("update_session", id_column=sql.Identifier(f"{kind}_id"),
                             data_column=sql.Identifier(f"{kind}_data"))
        return statement, params

    return _update_locked(db, session_id, user_id, plan)


def merge_session_state(db: Database, session_id: str, user_id: str | None,
                        compute: Callable[[dict], Any], now: int) -> dict | None:
    """Write the session_data `compute(row)` derives from the locked row (state merge), stamping updated_at."""
    return _update_locked(db, session_id, user_id,
                          lambda row: (db.query("merge_state_update"),
                                       {"session_data": jsonb(compute(row)), "now": now}))


CASCADE_QUERIES = (  # delete_session(s).sql's existence column → the queries it enables, payloads before index
    ("transcripts", "delete_cascade_transcripts"),
    ("compactions", "delete_cascade_compactions"),
    ("tool_result_payloads", "delete_cascade_tool_result_payloads"),
    ("tool_results", "delete_cascade_tool_results"),
)


def _cascade(db: Database, cur: Any) -> None:
    """What agno deletes with a session, from the tables that exist, for the ids the delete just removed."""
    found = cur.fetchone()
    if not found["deleted"]:
        return
    names = [name for column, name in CASCADE_QUERIES if found[column]]
    if names:
        cur.execute(sql.SQL(";\n").join(db.query(name) for name in names), {"session_ids": found["deleted"]})


def delete_session(db: Database, session_id: str, user_id: str | None) -> None:
    """Delete one session, its runs and what agno keeps beside them, in one transaction; no match is no error."""
    with db.transaction() as cur:
        cur.execute(db.query("delete_session"),
                    {"session_id": session_id, "user_id": user_id, "schema": db.config.schema})
        _cascade(db, cur)


def delete_sessions(db: Database, session_ids: list[str], user_id: str | None) -> None:
    """Delete many sessions, their runs and what agno keeps beside them, in one transaction; missing ids are
    ignored, and nothing is cascaded for them."""
    with db.transaction() as cur:
        cur.execute(db.query("delete_sessions"),
                    {"session_ids": session_ids, "user_id": user_id, "schema": db.config.schema})
        _cascade(db, cur)


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


def migrate(db: Database, indexes: bool = False) -> None:
    """Create what is missing: agno's schema, tables and indexes; with `indexes`, this service's own."""
    with db.transaction() as cur:
        cur.execute(db.query("create_tables", **_index_names(db)))
        if indexes:
            s = db.config.session_table
            own = {f"ix_{k}": sql.Identifier(f"{s}_svc_{k}") for k in
                   ("user_id", "agent_id", "team_id", "workflow_id", "updated")}
            cur.execute(db.query("create_service_indexes", **own))


class WorkflowSessionConflict(Exception):
    """The session id is taken by another session type or another user: a workflow run may not write it."""


def _check_workflow_owner(row: dict | None, session_id: str, user_id: str | None) -> None:
    """Refuse rows agno's upsert would not (or should not) overwrite."""
    if row is None:
        return
    if row["session_type"] != "workflow":
        raise WorkflowSessionConflict(f"session {session_id!r} is a {row['session_type']} session")
    if row["user_id"] is not None and row["user_id"] != user_id:
        raise WorkflowSessionConflict(f"session {session_id!r} belongs to another user")


def load_workflow_session(db: Database, session_id: str, user_id: str | None) -> dict | None:
    """The workflow session row a run resumes from (None when new); raises on a foreign session."""
    row = db.fetch_one("workflow_lock_session", {"session_id": session_id}, lock=sql.SQL(""))
    _check_workflow_owner(row, session_id, user_id)
    return row


def save_workflow_run(db: Database, session: dict[str, Any], run_data: dict[str, Any], now: int) -> dict:
    """Upsert the workflow session and insert its run in one transaction; returns the session row.

    `session` holds session_id, workflow_id, user_id, session_state and workflow_data; the stored session_name,
    other session_data keys and metadata are kept. `run_data` gets its run_index here.
    """
    session_id, user_id = session["session_id"], session["user_id"]
    with db.transaction() as cur:
        cur.execute(db.query("workflow_lock_session", lock=sql.SQL("FOR UPDATE")), {"session_id": session_id})
        existing = cur.fetchone()
        _check_workflow_owner(existing, session_id, user_id)
        old_data = existing["session_data"] if existing and isinstance(existing["session_data"], dict) else {}
        metadata = existing["metadata"] if existing and existing["metadata"] is not None else {}
        cur.execute(db.query("workflow_upsert_session"), {
            "session_id": session_id, "workflow_id": session["workflow_id"], "user_id": user_id,
            "session_data": jsonb({**old_data, "session_state": session["session_state"]}),
            "workflow_data": jsonb(session["workflow_data"]), "metadata": jsonb(metadata), "summary": jsonb(None),
            "now": now,
        })
        row = cur.fetchone()
        cur.execute(db.query("workflow_next_run_index"), {"session_id": session_id})
        run_data["run_index"] = cur.fetchone()["run_index"]
        cur.execute(db.query("workflow_insert_run"), {
            "run_id": run_data["run_id"], "session_id": session_id, "workflow_id": run_data.get("workflow_id"),
            "user_id": user_id, "status": run_data.get("status"), "run_index": run_data["run_index"],
            "run_data": jsonb(run_data), "created_at": run_data.get("created_at") or now, "now": now,
        })
    return row
