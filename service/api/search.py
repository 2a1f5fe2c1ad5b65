"""GET /sessions/-/search (extension `message-search`): the messages of every session the caller may read that hold
the words of `q`, ranked (newest first when too many match to rank: `Agno-Search-Order`), in keyset pages;
`Agno-Search-Mode` says whether the index answered or a scan of the runs (a database without `migrate --search`).
Also the list's `q=` (extension `session-search`)."""

from __future__ import annotations

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.api.auth import current_caller
from service.api.inputs import parsed_query, request_database
from service.api.links import link
from service.api.responses import json_response, with_applied
from service.rules import cursors
from service.rules.extensions import MESSAGE_SEARCH, SEARCH_MODE_HEADER, SEARCH_ORDER_HEADER
from service.rules.render import search as render_search
from service.rules.validation import parsers
from service.storage import search, search_scan
from service.storage.pool import Database
from service.storage.search_terms import FILTERS, INDEX, Search

bp = Blueprint("search", __name__)
CURSOR_KIND = "search"
DEFAULT_LIMIT = 20
_QUERY_KEYS = {"type": "session_type"}  # parameter name → parsed query key, where they differ


@bp.get("/sessions/-/search")
def search_messages() -> Response:
    parsed = parsed_query(parsers.search_query)
    db = request_database(parsed)
    q = parsed.query
    filters = {name: q[name] for name in FILTERS}
    filters["user_id"] = current_caller().owner(q["user_id"])  # isolation: a scoped caller finds its own only
    mode, config = search.search_way(db, current_app.config["SETTINGS"].search_config)
    text_mode = q["mode"] or "words"
    binding = _binding(db, q["q"], text_mode, filters)
    key = current_app.config["SETTINGS"].cursor_key
    after = None
    if q["after"] is not None:
        after = render_search.position_from_cursor(cursors.unseal(q["after"], CURSOR_KIND, binding, key))
    order = after.pop("order") if after is not None else None  # a cursor keeps its first page's order
    asked = Search(q["q"], text_mode, filters, config, q["limit"] or DEFAULT_LIMIT, after, order)
    rows = (search if mode == INDEX else search_scan).message_hits(db, asked)
    order = rows[0]["ordered_by"] if rows else order or render_search.RELEVANCE
    following = None
    if len(rows) > asked.limit:
        rows = rows[: asked.limit]
        following = cursors.seal(CURSOR_KIND, binding, render_search.hit_position(rows[-1]), key)
    body = {"data": [render_search.search_hit(row) for row in rows], "next_cursor": following}
    applied = [name for name in MESSAGE_SEARCH.parameters if q[_QUERY_KEYS.get(name, name)] is not None]
    response = with_applied(json_response(body), applied)
    response.headers[SEARCH_MODE_HEADER] = mode
    response.headers[SEARCH_ORDER_HEADER] = order
    if following is not None:
        response.headers["Link"] = link("after", following, "next")
    return response


def list_search(db: Database, q: str | None) -> tuple[dict, str | None]:
    """The list filters `q=` adds (extension `session-search`: the text and the configuration it is read with), and
    the search mode to announce (None: no `q`, AgentOS's list)."""
    if q is None:
        return {}, None
    configured = current_app.config["SETTINGS"].search_config
    return {"q": q, "search_config": configured}, search.search_way(db, configured)[0]


def _binding(db: Database, text: str, text_mode: str, filters: dict) -> list:
    """What a search cursor is valid for: this table, this text read this way, these filters (the caller's user
    included); the page size may change between pages, and so may the search mode (the order is the same)."""
    return [db.config.db_id, db.config.schema, db.config.session_table, text, text_mode, filters]

