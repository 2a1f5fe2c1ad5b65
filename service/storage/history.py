"""A session's runs read in pages along agno's run order, from a run's key in either direction: the history
window reads the newest runs it shows and the leading runs that name the session, the run cursors one page of runs
(plus one) from a cursor's run, never the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from psycopg2 import sql

from service.storage.legacy import merge_legacy_runs
from service.storage.pool import Database
from service.storage.search_scan import messages_fragment
from service.storage.versions import tagged

MAX_PAGE = 1000  # runs per statement: pages double from the caller's first size up to this
_BEFORE_UNINDEXED = (None, -(2**63), "")  # a key at or before every run without a run_index (created_at is bigint)

_ORDER = {
    "newest": sql.SQL("r.run_index DESC NULLS FIRST, r.created_at DESC, r.run_id DESC"),
    "oldest": sql.SQL("r.run_index ASC NULLS LAST, r.created_at ASC, r.run_id ASC"),
}
# Rows on the far side of a key (`op` is < or <= walking to older runs, > walking to newer), for a key with and
# without a run_index. The `run_index <= %(ri)s` / `>= %(ri)s` conjunct is what bounds the index scan; walking to
# newer runs, the runs without a run_index (last in agno's order) are read once the indexed ones run out.
_POSITION = {
    ("newest", True): "AND r.run_index <= %(ri)s AND (r.run_index < %(ri)s OR (r.created_at, r.run_id) {op} "
                      "(%(ca)s, %(rid)s))",
    ("newest", False): "AND (r.run_index IS NOT NULL OR (r.created_at, r.run_id) {op} (%(ca)s, %(rid)s))",
    ("oldest", True): "AND r.run_index >= %(ri)s AND (r.run_index > %(ri)s OR (r.created_at, r.run_id) {op} "
                      "(%(ca)s, %(rid)s))",
    ("oldest", False): "AND r.run_index IS NULL AND (r.created_at, r.run_id) {op} (%(ca)s, %(rid)s)",
}


def session_row(db: Database, session_id: str, user_id: str | None) -> dict | None:
    """The session row without runs, tagged (None: no such session for this user); `legacy_runs` is true when an
    agno 2.x `runs` column still holds runs, whose order only a full read can merge."""
    row = tagged(db.read_one("session_row", {"session_id": session_id, "user_id": user_id}))
    if row is not None:
        row["legacy_runs"] = "runs" in row and bool(merge_legacy_runs([], row.pop("runs")))
    return row


def page_statement(session_id: str, direction: str, key: tuple[Any, int, str] | None, inclusive: bool, size: int
                   ) -> tuple[dict[str, sql.Composable], dict[str, Any]]:
    """The fragments `session_runs_page.sql` is composed with for one page of `runs_from`, and its parameters (the
    tests EXPLAIN the same statement)."""
    params: dict[str, Any] = {"session_id": session_id, "limit": size}
    position = sql.SQL("")
    if key is not None:
        op = {"newest": "<", "oldest": ">"}[direction] + ("=" if inclusive else "")
        position = sql.SQL(_POSITION[(direction, key[0] is not None)].format(op=op))
        params |= {"ri": key[0], "ca": key[1], "rid": key[2]}
    return {"position": position, "order": _ORDER[direction]}, params


def runs_from(db: Database, session_id: str, direction: str, key: tuple[Any, int, str] | None, inclusive: bool,
              first: int) -> Iterator[list[dict]]:
    """Pages of run rows (run_index, created_at, run_id, run_data) walking `direction` ("newest": newest first,
    "oldest": oldest first) from `key` (run_index, created_at, run_id; None: from the end), the key's own run
    included when `inclusive`. The first page holds up to `first` runs, each next one twice as many, up to
    MAX_PAGE; the caller stops iterating once it has what it needs."""
    size = max(1, min(first, MAX_PAGE))
    while True:
        fragments, params = page_statement(session_id, direction, key, inclusive, size)
        rows = db.read_all("session_runs_page", params, **fragments)
        if rows:
            yield rows
        if len(rows) < size:
            if direction == "oldest" and key is not None and key[0] is not None:
                key, inclusive = _BEFORE_UNINDEXED, True  # the runs without a run_index follow every indexed one
                continue
            return
        last = rows[-1]
        key, inclusive, size = (last["run_index"], last["created_at"], last["run_id"]), False, min(size * 2, MAX_PAGE)


def message_at(db: Database, session_id: str, reference: str) -> dict | None:
    """The run key (run_index, created_at, run_id) and position of the chat_history message `reference` names in
    the session: its stored id, or `<run_id>#<index>`; None when no message shown in chat_history has it."""
    run_id, _, index = reference.rpartition("#")
    position = int(index) if index.isascii() and index.isdigit() and len(index) < 10 else None
    if "\x00" in reference:
        return None  # nothing stored holds a NUL (jsonb refuses it), and PostgreSQL could not bind it
    return db.read_one("history_message_at", {"session_id": session_id, "reference": reference,
                                              "run_id": run_id if position is not None else None,
                                              "position": position}, messages=messages_fragment())
