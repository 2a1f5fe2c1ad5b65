"""Transcript search (extensions `message-search`, `session-search`) without the search index: the same answers,
computed by scanning the runs under the request's time limit (storage/deadline.py: a 504 once it passes). Which
way a database is searched is decided by `search_mode`: the index once `migrate --search` completed it, else this.

Hit rows (what `message_hits` returns and the indexed search must return too, in the same order): session_id,
session_type, agent_id, team_id, workflow_id, user_id, session_data, workflow_data, run_id, position, message_id,
role, created_at, rank (real), snippet (ts_headline with chr(1)/chr(2) around matches, rules/render/search.py marks
and escapes it), name_run (session_name_run.sql)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from psycopg2 import sql

from service.storage.counts import _derived
from service.storage.list_extras import SQL_FALSE_WORDS
from service.storage.pool import Database
from service.storage.queries import sql_text
from service.storage.session_names import name_run_join

DEFAULT_CONFIG = "simple"  # the text search configuration before `migrate --search` stored one
CHECK_EVERY = 10.0  # seconds an index-completeness answer is trusted (as the session counts' readiness)
INDEX, SCAN = "index", "scan"
_log = logging.getLogger(__name__)

# The query each mode builds from the text `q` (parameters %(q)s and %(config)s). Prefix: every word of q as the
# configuration normalises it, each matching as a prefix; the lexemes are quoted for tsquery's own syntax (a quote
# doubled, a backslash escaped), so no character of q is ever read as an operator.
TSQUERY = {
    "words": "plainto_tsquery(%(config)s::regconfig, %(q)s)",
    "phrase": "phraseto_tsquery(%(config)s::regconfig, %(q)s)",
    "prefix": "(SELECT COALESCE(string_agg('''' || replace(replace(t.lexeme, '\\', '\\\\'), '''', '''''') || "
              "''':*', ' & ' ORDER BY t.lexeme), '')::tsquery "
              "FROM unnest(to_tsvector(%(config)s::regconfig, %(q)s)) t)",
}
MODES = tuple(TSQUERY)

# The hit filters: a session's (its type, its component for that type, its user) and a message's (role, time).
_CONDITIONS = {
    "session_type": "s.session_type = %(session_type)s",
    "component_id": "CASE s.session_type WHEN 'team' THEN s.team_id WHEN 'workflow' THEN s.workflow_id "
                    "ELSE s.agent_id END = %(component_id)s",
    "user_id": "s.user_id = %(user_id)s",
    "role": "m.role = %(role)s",
    "created_after": "m.created_at >= %(created_after)s",
    "created_before": "m.created_at <= %(created_before)s",
}
FILTERS = tuple(_CONDITIONS)
# The rows after a cursor's hit in the hits' order (rank desc, created_at desc, session_id, run_id, position).
_AFTER = sql.SQL("WHERE rank < %(after_rank)s::real OR (rank = %(after_rank)s::real AND (created_at < %(after_at)s "
                 "OR (created_at = %(after_at)s AND (session_id, run_id, position) > "
                 "(%(after_session)s::text, %(after_run)s::text, %(after_position)s::int))))")


@dataclass(frozen=True)
class Search:
    """One search: the text, how it matches (`mode`), the filters given (FILTERS' names; None: not given), the text
    search configuration, and the page: `limit` hits after `after` (a hit's position, None: from the first)."""

    q: str
    mode: str
    filters: dict[str, Any]
    config: str
    limit: int
    after: dict[str, Any] | None = None


@cache
def messages_fragment() -> sql.Composable:
    """search_scan_messages.sql: the searchable messages of the run row `r`, for a lateral join."""
    words = ", ".join(f"'{word}'" for word in SQL_FALSE_WORDS)
    return sql.SQL(sql_text("search_scan_messages")).format(false_words=sql.SQL(words))


def _conditions(filters: dict[str, Any]) -> sql.Composable:
    given = [_CONDITIONS[name] for name in FILTERS if filters.get(name) is not None]
    return sql.SQL("".join(f"\n      AND {condition}" for condition in given))


def message_hits(db: Database, search: Search) -> list[dict]:
    """Up to `search.limit` + 1 hit rows (the extra one says another page follows), scanning every run of the
    sessions the filters keep."""
    params: dict[str, Any] = {"q": search.q, "config": search.config, "limit": search.limit + 1,
                              **{k: v for k, v in search.filters.items() if v is not None}}
    after = sql.SQL("")
    if search.after is not None:
        after = _AFTER
        params |= {"after_rank": search.after["rank"], "after_at": search.after["created_at"],
                   "after_session": search.after["session_id"], "after_run": search.after["run_id"],
                   "after_position": search.after["position"]}
    return db.read_all("search_scan", params, tsquery=sql.SQL(TSQUERY[search.mode]), messages=messages_fragment(),
                       conditions=_conditions(search.filters), after=after,
                       name_run=name_run_join(db.identifiers["runs"]))


def session_condition(runs: sql.Composable) -> sql.Composable:
    """The list's `q=` condition (extension `session-search`) on its session row `s`: a searchable message or the
    stored name matches the words of %(q)s under %(search_config)s."""
    query = "plainto_tsquery(%(search_config)s::regconfig, %(q)s)"
    return sql.SQL(
        "(to_tsvector(%(search_config)s::regconfig, COALESCE(s.session_data ->> 'session_name', '')) @@ {query} "
        "OR EXISTS (SELECT 1 FROM {runs} r CROSS JOIN LATERAL ({messages}) m WHERE r.session_id = s.session_id "
        "AND to_tsvector(%(search_config)s::regconfig, m.body) @@ {query}))"
    ).format(query=sql.SQL(query), runs=runs, messages=messages_fragment())


# ------------------------------------------------------------------ which way a database is searched


@dataclass(frozen=True)
class IndexState:
    """What the search index's state table says: whether it is complete (with its triggers in place and enabled)
    and the text search configuration it was built with (None: no index, not even a building one)."""

    complete: bool
    config: str | None


class _Known:
    """One database's IndexState, remembered for CHECK_EVERY seconds."""

    def __init__(self) -> None:
        self.state = IndexState(False, None)
        self.checked = float("-inf")
        self.lock = threading.Lock()


_known: WeakKeyDictionary[Database, _Known] = WeakKeyDictionary()
_known_lock = threading.Lock()


def index_names(db: Database) -> dict[str, str]:
    """The search index's table, state table and triggers as migrate --search names them (regclass text, names)."""
    schema, table = db.config.schema, db.config.session_table
    return {"state": f'"{schema}"."{_derived(table, "search_state")}"',
            "index": f'"{schema}"."{_derived(table, "search")}"',
            "sessions": f'"{schema}"."{table}"', "runs": f'"{schema}"."{db.config.runs_table}"',
            "runs_trigger": _derived(table, "search_runs"), "sessions_trigger": _derived(table, "search_sessions")}


def index_state(db: Database) -> IndexState:
    """The search index's state (one catalog query, and one read of the state table when it exists, per
    CHECK_EVERY seconds)."""
    with _known_lock:
        known = _known.setdefault(db, _Known())
    if time.monotonic() - known.checked < CHECK_EVERY:
        return known.state
    with known.lock:
        if time.monotonic() - known.checked >= CHECK_EVERY:
            known.state = _read_state(db)
            known.checked = time.monotonic()
    return known.state


def _read_state(db: Database) -> IndexState:
    names = index_names(db)
    found = db.read_one("search_index_present", names)
    if not found or not found["present"]:
        return IndexState(False, None)
    state_table = sql.Identifier(db.config.schema, _derived(db.config.session_table, "search_state"))
    row = db.read_one("search_index_state", {}, state=state_table)
    if row is None:
        return IndexState(False, None)
    return IndexState(bool(row["complete"]) and found["triggers"], row["config"])


def forget(db: Database) -> None:
    """Check the index again on the next search (after migrate --search or --drop-search)."""
    with _known_lock:
        _known.setdefault(db, _Known()).checked = float("-inf")


def search_mode(db: Database) -> tuple[str, str]:
    """How `db` is searched now (INDEX once the index is complete, else SCAN) and with which text search
    configuration (the index's, even while it builds, so answers keep their words when it completes)."""
    state = index_state(db)
    return (INDEX if state.complete else SCAN), state.config or DEFAULT_CONFIG
