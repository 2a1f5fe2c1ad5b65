"""A session's entity tag, derived from what PostgreSQL stores: the session row's version (its `xmin`, the
transaction that wrote this row version) and the set of its runs' (run_id, xmin). Every committed INSERT, UPDATE
or DELETE of the row or of one of its runs, by any writer, changes one of them; freezing and table rewrites keep
the raw `xmin` (docs/compatibility.md, `preconditions`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from psycopg2 import sql

# The runs' part, an aggregate over the runs `r` of one session: their (xmin, run_id) in agno's read order, the
# order the detail's jsonb_agg of run_data sorts them in (PostgreSQL sorts once for both), each length-prefixed
# so no two sequences spell the same text. Only tuple headers and the order's columns are read, never run_data.
# Composed into the SQL files as {runs_version}.
RUNS_VERSION = sql.SQL(
    "md5(COALESCE(string_agg(r.xmin::text || ' ' || length(r.run_id) || ' ' || r.run_id, '' "
    "ORDER BY r.run_index, r.created_at, r.run_id), ''))")


def runs_version(runs: Iterable[tuple[str, str]]) -> str:
    """RUNS_VERSION for (run_id, xmin) pairs, given in agno's read order (a create's preloaded runs)."""
    text = "".join(f"{xmin} {len(run_id)} {run_id}" for run_id, xmin in runs)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def entity_tag(row_version: str, runs: str) -> str:
    """The opaque tag of one stored state (without quotes): the row's xmin and the runs' version, hashed so no
    transaction id is shown."""
    return hashlib.md5(f"{row_version}/{runs}".encode(), usedforsecurity=False).hexdigest()


def tagged(row: dict | None) -> dict | None:
    """The row with its version columns (`row_version`, `runs_version`) replaced by `etag`."""
    if row is not None and "row_version" in row:
        row["etag"] = entity_tag(row.pop("row_version"), row.pop("runs_version"))
    return row
