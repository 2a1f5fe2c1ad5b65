"""The /sessions queries, one function per SQL file: typed values in, plain row dicts out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Protocol, TypeVar

from psycopg2 import sql
from psycopg2.extras import execute_values

from service.core.pg_limits import BIGINT_MAX
from service.storage import counts, list_extras, list_keyset, search, search_scan
from service.storage.binding import json_column, jsonb
from service.storage.errors import RunConflict, TablesMissing
from service.storage.legacy import merge_legacy_runs
from service.storage.list_conditions import DATE_FILTERS, metadata_params
from service.storage.pool import Database
from service.storage.queries import sql_text
from service.storage.search_terms import INDEX
from service.storage.session_names import name_run_join
from service.storage.versions import entity_tag, runs_version, tagged

SESSION_COLUMNS = (
    "session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id", "session_data",
    "agent_data", "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at",
)
JSON_COLUMNS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")


def with_runs(row: dict | None) -> dict | None:
    """Attach `runs` (run_data dicts in read order), merging a legacy 2.x blob when the table has one."""
    if row is None:
        return None
    runs = row.pop("run_list", None) or []
    if "runs" in row:
        runs = merge_legacy_runs(runs, row.pop("runs"))
    row["runs"] = runs
    return row


@lru_cache(maxsize=256)  # sort_by is any client string: bounded
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


_COMPONENT = {"agent": "s.agent_id = %(component_id)s", "team": "s.team_id = %(component_id)s",
              "workflow": "s.workflow_id = %(component_id)s",
              None: "(s.agent_id = %(component_id)s OR s.team_id = %(component_id)s "
                    "OR s.workflow_id = %(component_id)s)"}


@cache  # every argument is bounded (metadata_count by the parser's cap), so the texts are too
def list_filter(session_type: str | None, has_user: bool, has_component: bool, has_name: bool,
                metadata_count: int = 0, dates: tuple[str, ...] = (), has_ids: bool = False) -> sql.SQL:
    """The list's WHERE with only the filters given (one text per combination, so PostgreSQL plans no
    `x IS NULL OR` branches); the name filter's expression is the one the trigram index covers. Each metadata
    filter is a containment the GIN index answers (its candidates) and the exact `->>` text equality it means;
    values are parameters (`metadata_params`)."""
    conditions = []
    if session_type is not None:
        conditions.append("s.session_type = %(session_type)s")
    if has_user:
        conditions.append("s.user_id = %(user_id)s")
    if has_component:
        conditions.append(_COMPONENT.get(session_type, _COMPONENT[None]))
    if has_name:
        conditions.append("COALESCE(s.session_data ->> 'session_name', '') ILIKE '%%' || %(session_name)s || '%%'")
    for i in range(metadata_count):
        conditions.append(f"s.metadata @> ANY (%(metadata_docs_{i})s::jsonb[]) "
                          f"AND s.metadata ->> %(metadata_key_{i})s = %(metadata_value_{i})s")
    conditions += [DATE_FILTERS[name] for name in dates]
    if has_ids:  # the change feed's include=session: the rows of the sessions a page names
        conditions.append("s.session_id = ANY(%(session_ids)s)")
    return sql.SQL("WHERE " + "\n      AND ".join(conditions) if conditions else "")


NO_TOTAL = sql.SQL("SELECT NULL::bigint AS total_count, 0 AS delta_rows")  # include_total=false: nothing counted


@dataclass(frozen=True)
class ListPage:
    """Which rows of the filtered, sorted list to read: an offset page (`page`), or the rows after a cursor's
    keyset `position` (`page` None; position None: the first); `count` whether to compute the total; `include` the
    computed keys to add (storage/list_extras.py)."""

    limit: int
    page: int | None = 1
    position: dict[str, Any] | None = None
    count: bool = True
    include: tuple[str, ...] = ()


def cursor_sortable(sort_by: str) -> bool:
    """Whether a cursor position can follow this sort (not a JSON column: its key would be a whole document)."""
    return sort_by not in JSON_COLUMNS


def list_statement(filters: dict[str, Any], sort_by: str, sort_order: str, page: ListPage, total: sql.Composable,
                   runs: sql.Identifier, searched: sql.Composable | None = None
                   ) -> tuple[dict[str, sql.Composable], dict[str, Any]]:
    """The fragments `list_sessions.sql` is composed with and its parameters; `total` is `counts.list_total`'s
    (also what the benchmark's pgbench ceiling runs). A cursor page reads one row more than it shows: that row
    says whether another page follows. `searched` is the `q=` condition (search.session_condition from the index,
    else the scan's)."""
    where = list_filter(filters.get("session_type"), filters.get("user_id") is not None,
                        filters.get("component_id") is not None, filters.get("session_name") is not None,
                        len(filters.get("metadata") or ()),
                        tuple(name for name in DATE_FILTERS if filters.get(name) is not None),
                        filters.get("session_ids") is not None)
    if filters.get("q") is not None:  # extension `session-search`: %(q)s under %(search_config)s
        where = sql.Composed([where, sql.SQL("\n      AND " if where.string else "WHERE "),
                              searched if searched is not None else search_scan.session_condition(runs)])
    fragments = {"order_by": order_clause(sort_by, sort_order), "where": where, "total": total,
                 "after": sql.SQL(""), "name_run": name_run_join(runs), **list_extras.extras(page.include, runs)}
    params = {k: v for k, v in filters.items() if k != "metadata"} | metadata_params(filters.get("metadata"))
    if page.page is not None:
        offset = min((page.page - 1) * page.limit, BIGINT_MAX)  # past bigint is past any data: an empty page
        params |= {"limit": page.limit, "offset": offset}
    else:
        params |= {"limit": min(page.limit + 1, BIGINT_MAX), "offset": 0}
        if page.position is not None:
            fragments["after"], position_params = list_keyset.after_condition(sort_by, sort_order, page.position)
            params |= position_params
    return fragments, params


def list_sessions(db: Database, filters: dict[str, Any], sort_by: str, sort_order: str, page: ListPage
                  ) -> tuple[int | None, list[dict]]:
    """The total under the filters (None when not counted) and one page of rows, each with the `runs` its name
    derives from (the first that can name it, reduced to what naming reads; all of them on a legacy table), plus
    the included keys' raw values."""

    def read(total: sql.Composable) -> list[dict]:
        fragments, params = list_statement(filters, sort_by, sort_order, page, total, db.identifiers["runs"],
                                           searched)
        return db.read_all("list_sessions", params, **fragments)

    searched = None
    if filters.get("q") is not None:  # the index's condition and configuration once it is complete
        way, config = search.search_way(db, filters["search_config"])
        if way == INDEX:
            searched, filters = search.session_condition(db), {**filters, "search_config": config}
    total = counts.list_total(db, filters) if page.count else NO_TOTAL
    try:
        rows = read(total)
    except TablesMissing:
        if total is not counts.names(db).total:
            raise
        counts.forget(db)  # the counts table went away since it was checked: count rows this time
        rows = read(counts.COUNT_ROWS)
    total_count, page_rows = counts.split_total(db, rows)
    if page_rows and "runs" in page_rows[0]:
        _attach_page_runs(db, page_rows)
    for row in page_rows:
        name_run = row.pop("name_run", None)
        if "runs" not in row:
            row["runs"] = [name_run] if name_run is not None else []
    return total_count, page_rows


def _attach_page_runs(db: Database, rows: list[dict]) -> None:
    """Legacy tables only: names may come from the 2.x blob, so merge each session's runs in full."""
    found = db.read_all("page_runs", {"session_ids": [r["session_id"] for r in rows]})
    by_session = {r["session_id"]: r["run_list"] for r in found}
    for row in rows:
        row["run_list"] = by_session.get(row["session_id"], [])
        with_runs(row)
        row["runs_complete"] = True


def get_session(db: Database, session_id: str, user_id: str | None) -> dict | None:
    """A session row with its runs and its entity tag (`etag`), or None."""
    row = db.read_one("get_session", {"session_id": session_id, "user_id": user_id}, lock=sql.SQL(""))
    return tagged(with_runs(row))


def get_run(db: Database, session_id: str, run_id: str, user_id: str | None) -> dict | None:
    """A session row with `has_runs` and `run` (the asked-for run_data or None), or None."""
    # AgentOS finds the run in Python: a run id PostgreSQL cannot hold (NUL) is simply not found.
    bound_run_id = None if "\x00" in run_id else run_id
    row = db.read_one("get_run", {"session_id": session_id, "run_id": bound_run_id, "user_id": user_id})
    if row is not None and "runs" in row:  # agno 2.x legacy blob: its runs count too, the runs table wins
        legacy = merge_legacy_runs([], row.pop("runs"))
        row["has_runs"] = row["has_runs"] or bool(legacy)
        if row["run"] is None:
            row["run"] = next((r for r in legacy if r.get("run_id") == run_id), None)
    return row


def create_session(db: Database, values: dict[str, Any], runs: list[dict[str, Any]]) -> dict | None:
    """Insert a session (and preloaded run rows) in one transaction, tagged; None when the id is taken."""
    params = {c: values.get(c) for c in SESSION_COLUMNS if c != "updated_at"}
    params |= {c: json_column(params[c]) for c in JSON_COLUMNS}
    with db.transaction() as cur:
        cur.execute(db.query("insert_session"), params)
        row = cur.fetchone()
        if row is None:
            return None
        inserted = []
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
    row["etag"] = entity_tag(row.pop("row_version"), runs_version(r["row_version"] for r in inserted))
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


Precondition = Callable[[str | None], None]  # given the current tag (None: no such session), raises to refuse


def locked_tag(db: Database, cur: Any, session_id: str, session_type: str | None, user_id: str | None
                ) -> str | None:
    """Lock the session row (in the caller's transaction) and read its entity tag; None when no session matches."""
    cur.execute(db.query("lock_session"), {"session_id": session_id, "session_type": session_type, "user_id": user_id})
    found = cur.fetchone()
    return None if found is None else entity_tag(found["row_version"], runs_version(found["run_xmins"]))


def rename_session(db: Database, session_id: str, session_type: str | None, user_id: str | None, name: str,
                   precondition: Precondition | None = None) -> dict | None:
    """Store a new session_name; None when no session matches id, type and user. With a `precondition`, it is
    given the locked row's tag first (a refusal rolls back before anything is written)."""
    params = {"session_id": session_id, "session_type": session_type, "user_id": user_id, "name": name}
    if precondition is None:
        return tagged(with_runs(db.fetch_one_in_transaction("rename_session", params)))
    with db.transaction() as cur:
        precondition(locked_tag(db, cur, session_id, session_type, user_id))
        cur.execute(db.query("rename_session"), params)
        return tagged(with_runs(cur.fetchone()))


class ColumnWrite(Protocol):
    """What a rule computed for a locked row: the session type whose id and data columns it writes, and the
    column values (the SQL file's parameters)."""

    @property
    def kind(self) -> str: ...

    @property
    def columns(self) -> dict[str, Any]: ...


Write = TypeVar("Write", bound=ColumnWrite)


def _bound(columns: dict[str, Any]) -> dict[str, Any]:
    """Column values as parameters: the JSON columns wrapped for jsonb."""
    return {k: (jsonb(v) if k in JSON_COLUMNS or k == "component_data" else v) for k, v in columns.items()}


def _update_locked(db: Database, session_id: str, user_id: str | None, compute: Callable[[dict], Write],
                   statement: Callable[[Write], sql.Composable]) -> tuple[dict, Write] | None:
    """Lock the row (concurrent writers queue here, each reading what the one before wrote), let `compute(row)` say
    what to write (raising leaves the row as it was), run `statement(write)` in the same transaction; the updated
    row with the runs read under the lock and its new tag, and the write. `compute` sees the locked row's tag
    (`etag`): an If-Match precondition compares it there."""
    with db.transaction() as cur:
        locked = db.query("get_session", lock=sql.SQL("FOR UPDATE OF s"))
        cur.execute(locked, {"session_id": session_id, "user_id": user_id})
        row = with_runs(cur.fetchone())
        if row is None:
            return None
        runs = runs_version(row.pop("run_xmins"))
        row["etag"] = entity_tag(row.pop("row_version"), runs)
        write = compute(row)
        cur.execute(statement(write), {**_bound(write.columns), "session_id": session_id})
        updated = cur.fetchone()
    updated.pop("runs", None)
    updated["runs"] = row["runs"]
    updated["etag"] = entity_tag(updated.pop("row_version"), runs)
    return updated, write


def patch_session(db: Database, session_id: str, user_id: str | None, compute: Callable[[dict], Write]
                  ) -> tuple[dict, Write] | None:
    """Read-lock-write in one transaction: `compute(row)` returns the columns to write, as agno's upsert would."""
    return _update_locked(db, session_id, user_id, compute,
                          lambda write: db.query("update_session", id_column=sql.Identifier(f"{write.kind}_id"),
                                                 data_column=sql.Identifier(f"{write.kind}_data")))


def merge_session_state(db: Database, session_id: str, user_id: str | None, compute: Callable[[dict], Write]
                        ) -> tuple[dict, Write] | None:
    """Write the session_data and updated_at `compute(row)` derives from the locked row (state merge)."""
    return _update_locked(db, session_id, user_id, compute, lambda write: db.query("merge_state_update"))


RELATED = sql.SQL(sql_text("cascade_related"))  # the deleted ids and which related tables exist (after a `gone` step)
CASCADE_QUERIES = (  # cascade_related.sql's existence column → the queries it enables, payloads before index
    ("transcripts", "delete_cascade_transcripts"),
    ("compactions", "delete_cascade_compactions"),
    ("tool_result_payloads", "delete_cascade_tool_result_payloads"),
    ("tool_results", "delete_cascade_tool_results"),
)


def cascade(db: Database, cur: Any, found: dict | None = None) -> list[str]:
    """What agno deletes with a session, from the tables that exist, for the ids the statement just run (one ending
    in RELATED; `found` its row when already fetched) removed; those ids."""
    found = cur.fetchone() if found is None else found
    if not found["deleted"]:
        return []
    names = [name for column, name in CASCADE_QUERIES if found[column]]
    if names:
        cur.execute(sql.SQL(";\n").join(db.query(name) for name in names), {"session_ids": found["deleted"]})
    return found["deleted"]


Guard = Callable[[Any, list[str]], None]  # given the transaction and the ids just deleted, raises to roll back


def delete_session(db: Database, session_id: str, user_id: str | None, precondition: Precondition | None = None,
                   guard: Guard | None = None) -> None:
    """Delete one session, its runs and what agno keeps beside them, in one transaction; no match is no error. With
    a `precondition`, it is given the locked row's tag first; a `guard` (legal holds) is asked about the deleted ids
    when the hold table exists (a refusal of either rolls everything back)."""
    if precondition is None:
        delete_sessions(db, [session_id], user_id, guard)
        return
    with db.transaction() as cur:
        precondition(locked_tag(db, cur, session_id, None, user_id))
        delete_in(db, cur, [session_id], user_id, guard)


def delete_sessions(db: Database, session_ids: list[str], user_id: str | None, guard: Guard | None = None) -> None:
    """Delete many sessions, their runs and what agno keeps beside them, in one transaction; missing ids are
    ignored, and nothing is cascaded for them."""
    with db.transaction() as cur:
        delete_in(db, cur, session_ids, user_id, guard)


def delete_in(db: Database, cur: Any, session_ids: list[str], user_id: str | None, guard: Guard | None = None) -> None:
    """The delete and its cascade, in the caller's transaction; the guard sees the deleted ids first when legal
    holds exist (no statement more without them)."""
    cur.execute(db.query("delete_sessions", related=RELATED),
                {"session_ids": session_ids, "user_id": user_id, "schema": db.config.schema,
                 "holds": _holds_regclass(db.config.schema, db.config.session_table)})
    found = cur.fetchone()
    if guard is not None and found["holds"] and found["deleted"]:
        guard(cur, found["deleted"])
    cascade(db, cur, found)


@cache
def _holds_regclass(schema: str, session_table: str) -> str:
    """The legal holds' table (storage/lifecycle.py names it the same way), as regclass text."""
    return f'"{schema}"."{counts.derived_name(session_table, "holds")}"'
