"""A session's entity tag, derived from what PostgreSQL stores: the session row's version (its `xmin`, the
transaction that wrote this row version) and the multiset of its runs' xmins. Every committed INSERT, UPDATE
or DELETE of the row or of one of its runs, by any writer, changes one of them; freezing and table rewrites keep
the raw `xmin` (docs/compatibility.md, `preconditions`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from psycopg2 import sql

# The runs' part, a subquery over the runs of session `s`: their xmins, in no particular order, left as xid (their
# text form costs more to make than the array's). Only tuple headers are read, never run_data. Composed into the SQL
# files as {run_xmins}; the detail reads the same with an array_agg beside its jsonb_agg, in the one pass it makes.
RUN_XMINS = sql.SQL("ARRAY(SELECT r.xmin FROM {runs} r WHERE r.session_id = s.session_id)")


def runs_version(xmins: str | Iterable[str] | None) -> str:
    """The runs' version: their xmins as a multiset (sorted here, so the scan's order does not matter). Every
    committed change to a session's runs adds the writer's transaction id, which no run read before it can carry,
    or only removes runs: either way the multiset changes, so run ids and read order need not be hashed. Takes the
    xid[] column as psycopg2 gives it (its text, `{7,9}`; NULL for no runs) or the ids themselves."""
    if xmins is None:
        xmins = []
    elif isinstance(xmins, str):
        xmins = xmins.strip("{}").split(",") if xmins != "{}" else []
    text = " ".join(sorted(xmins, key=int))
    return hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()


def entity_tag(row_version: str, runs: str) -> str:
    """The opaque tag of one stored state (without quotes): the row's xmin and the runs' version, hashed so no
    transaction id is shown."""
    return hashlib.md5(f"{row_version}/{runs}".encode(), usedforsecurity=False).hexdigest()


def tagged(row: dict | None) -> dict | None:
    """The row with its version columns (`row_version`, `run_xmins`) replaced by `etag`."""
    if row is not None and "row_version" in row:
        row["etag"] = entity_tag(row.pop("row_version"), runs_version(row.pop("run_xmins")))
    return row
