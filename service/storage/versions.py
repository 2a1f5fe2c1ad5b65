"""A session's entity tag, derived from what PostgreSQL stores: the session row's version (its `xmin`, the
transaction that wrote this row version) and the multiset of its runs' xmins. Every committed INSERT, UPDATE
or DELETE of the row or of one of its runs, by any writer, changes one of them; freezing and table rewrites keep
the raw `xmin` (docs/compatibility.md, `preconditions`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from psycopg2 import sql

# The runs' part, a subquery over the runs of session `s`: their xmins, as text, in no particular order. Only tuple
# headers are read, never run_data, and no aggregate is planned beside the detail's jsonb_agg. Composed into the
# SQL files as {run_xmins}.
RUN_XMINS = sql.SQL("ARRAY(SELECT r.xmin::text FROM {runs} r WHERE r.session_id = s.session_id)")


def runs_version(xmins: Iterable[str]) -> str:
    """The runs' version: their xmins as a multiset (sorted here, so the scan's order does not matter). Every
    committed change to a session's runs adds the writer's transaction id, which no run read before it can carry,
    or only removes runs: either way the multiset changes, so run ids and read order need not be hashed."""
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
