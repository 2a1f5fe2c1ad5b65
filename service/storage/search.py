"""Message search over the search index (search_index.py): one statement finds, filters, ranks and pages the
matching messages through the GIN index, and reads only the page's runs for the snippets."""

from __future__ import annotations

import html
from typing import Any, NamedTuple

from psycopg2 import sql

from service.storage import search_index
from service.storage.pool import Database

MODES = ("words", "phrase", "prefix")
_START, _STOP = "\ue000", "\ue001"  # private-use characters: ts_headline's marks, never in an escaped snippet
_HEADLINE = f'StartSel="{_START}", StopSel="{_STOP}", MaxWords=30, MinWords=12'
# words: every word (plainto_tsquery); phrase: the words in this order (phraseto_tsquery); prefix: every word as a
# prefix of an indexed one (its lexemes, each quoted for the tsquery syntax, with :*).
_TSQUERY = {
    "words": "plainto_tsquery(config, %(q)s)",
    "phrase": "phraseto_tsquery(config, %(q)s)",
    "prefix": "(SELECT string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || ''':*', ' & ')"
              "::tsquery FROM unnest(to_tsvector(config, %(q)s)))",
}


class SearchKey(NamedTuple):
    """A hit's place in the search's total order (rank desc, created_at desc, session_id, run_id, position): what
    a cursor holds to continue after it."""

    rank: float
    created_at: int
    session_id: str
    run_id: str
    position: int


def search_messages(db: Database, q: str, *, mode: str = "words", session_type: str | None = None,
                    component_id: str | None = None, user_id: str | None = None, role: str | None = None,
                    created_after: int | None = None, created_before: int | None = None,
                    after: SearchKey | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Up to `limit` matching messages from the index (ask page size + 1 to know whether a next page exists).

    `q` is searched by `mode` (MODES) with the index's text search configuration; the filters compare with the
    session's type, component id and user, the message's role, and its created_at (epoch seconds, inclusive);
    `after` continues after a hit's `key`. The caller checks the index is usable first (search_index.usable).
    Each hit: session_id, run_id, position, message (the stored id, else "<run_id>#<position>"), message_id,
    role, created_at, user_id, session_type, component_id, rank, stored_name (session_data.session_name as stored,
    any JSON, or None), snippet (HTML-escaped text, matched words in <mark>…</mark>), key (a SearchKey)."""
    fragments, params = search_statement(db, q, mode=mode, session_type=session_type, component_id=component_id,
                                         user_id=user_id, role=role, created_after=created_after,
                                         created_before=created_before, after=after, limit=limit)
    hits = db.read_all("search_messages", params, **fragments)
    for hit in hits:
        hit["message"] = hit["message_id"] or f"{hit['run_id']}#{hit['position']}"
        hit["snippet"] = _marked(hit["snippet"] or "")
        hit["key"] = SearchKey(hit["rank"], hit["created_at"], hit["session_id"], hit["run_id"], hit["position"])
    return hits


def search_statement(db: Database, q: str, *, mode: str = "words", session_type: str | None = None,
                     component_id: str | None = None, user_id: str | None = None, role: str | None = None,
                     created_after: int | None = None, created_before: int | None = None,
                     after: SearchKey | None = None, limit: int = 20
                     ) -> tuple[dict[str, sql.Composable], dict[str, Any]]:
    """The fragments `search_messages.sql` is composed with and its parameters (the tests EXPLAIN the same)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    fragments = {**search_index.names(db).fragments, "tsquery": sql.SQL(_TSQUERY[mode]),
                 "start": sql.Literal(_START), "stop": sql.Literal(_STOP), "headline_options": sql.Literal(_HEADLINE)}
    params = {"q": q, "session_type": session_type, "component_id": component_id, "user_id": user_id, "role": role,
              "created_after": created_after, "created_before": created_before, "limit": limit,
              **{f"after_{name}": value for name, value in zip(SearchKey._fields, after or (None,) * 5,
                                                                 strict=True)}}
    return fragments, params


def _marked(headline: str) -> str:
    """ts_headline's text HTML-escaped, its marks turned into <mark> elements."""
    return html.escape(headline, quote=False).replace(_START, "<mark>").replace(_STOP, "</mark>")
