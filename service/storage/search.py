"""Transcript search over the search index (search_index.py; extensions `message-search`, `session-search`): the
GIN index finds the matches, the runs queued for the drain (search_drain.py) are read themselves, and the answer is
the scan's, row for row (search_scan.py names the hit rows).
`search_way` says which way a database is searched now."""

from __future__ import annotations

import dataclasses

from psycopg2 import sql

from service.storage import search_index, search_scan, search_terms
from service.storage.pool import Database
from service.storage.search_terms import HITS, INDEX, SCAN, Search
from service.storage.session_names import name_run_join

# The filters on the index's row `h`: the session's type, component and user, the message's role and time.
CONDITIONS = {
    "session_type": "h.session_type = %(session_type)s",
    "component_id": "h.component_id = %(component_id)s",
    "user_id": "h.user_id = %(user_id)s",
    "role": "h.role = %(role)s",
    "created_after": "h.created_at >= %(created_after)s",
    "created_before": "h.created_at <= %(created_before)s",
}


NO_JIT = sql.SQL("SET LOCAL jit = off;\n")  # the hits statement's prefix (an EXPLAIN of it goes without)


def search_way(db: Database, configured: str) -> tuple[str, str]:
    """How `db` is searched now: INDEX with the index's text search configuration once `migrate --search`
    completed it (and its triggers fire), else SCAN with the `configured` one (the index is built with it)."""
    config = search_index.usable(db)
    return (INDEX, config) if config is not None else (SCAN, configured)


def hits_fragments(db: Database, search: Search) -> dict[str, sql.Composable]:
    """What sql/search_messages.sql is composed with for `search`: the index's names, the filters on the index's
    rows and on the queued runs read afresh, the page and the run names derive from."""
    fragments = {**search_index.names(db).fragments, **search.fragments(CONDITIONS),  # max_text: the same value
                 "pending_conditions": search.fragments(search_scan.CONDITIONS)["conditions"], "no_jit": NO_JIT,
                 "name_run": name_run_join(db.identifiers["runs"])}
    fragments |= {"indexed_matches": db.query("search_indexed_matches", **fragments),
                  "queued_matches": db.query("search_queued_matches", **fragments)}
    return {**fragments, "hits": _hits(db, search, fragments)}


def _hits(db: Database, search: Search, fragments: dict[str, sql.Composable]) -> sql.Composable:
    """The hits CTE for the search's order (search_terms.HITS), with search_recent.sql composed in where it reads it."""
    recent = db.query("search_recent", **fragments)
    return sql.SQL(HITS[search.order]).format(recent=recent, after=fragments["after"])


def estimated_matches(db: Database, search: Search) -> int:
    """How many index rows the planner expects `search`'s text to match (its statistics; nothing is read)."""
    (plan,) = db.read_one("search_estimate", search.params(), search=search_index.names(db).fragments["search"],
                          tsquery=search.fragments(CONDITIONS)["tsquery"])["QUERY PLAN"]
    return int(plan["Plan"]["Plan Rows"])


def message_hits(db: Database, search: Search) -> list[dict]:
    """Up to `search.limit` + 1 hit rows from the index (the extra one says another page follows). A first page
    whose matches are estimated far past the ranked cap goes newest first at once (search_terms.ESTIMATED_BROAD)."""
    if search.order is None and estimated_matches(db, search) > search_terms.ESTIMATED_BROAD * search_terms.MAX_RANKED:
        search = dataclasses.replace(search, order=search_terms.RECENT)
    return db.read_all("search_messages", search.params(), **hits_fragments(db, search))


def session_condition(db: Database) -> sql.Composable:
    """The list's `q=` condition on its session row `s` from the index: a row of the session (a message, or its
    stored name) matches the words of %(q)s under %(search_config)s, or a message of one of its queued runs does.
    One uncorrelated IN, so PostgreSQL joins it as a semi-join."""
    return db.query("search_sessions_matching", **search_index.names(db).fragments)
