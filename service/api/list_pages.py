"""GET /sessions, with the list extensions: keyset pages by cursor and pages without their total
(`list-cursors`), rows with only some keys or with computed ones (`list-shape`). Without them: AgentOS's page."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

from service.api.links import link
from service.api.responses import json_response, with_applied
from service.rules import cursors, render
from service.rules.errors import ApiError
from service.rules.extensions import LIST_CURSORS, LIST_SHAPE
from service.rules.render.list_rows import shaped_list_item
from service.storage import archive, list_keyset
from service.storage import sessions as store
from service.storage.pool import Database

CURSOR_KIND, ARCHIVED_KIND = "sessions", "archived"
ARCHIVE_KEYS = ("archived_at", "archived_by", "reason")  # what an archived list row adds to the list's shape


def list_page(db: Database, query: dict, filters: dict, applied_filters: list[str], archived: bool = False
              ) -> Response:
    """One page of the list under `filters` (the caller's own rows for a scoped caller; `applied_filters` the
    extension filters among them that took effect); with `archived`, of the archive (extension `archive`), each
    row with ARCHIVE_KEYS too."""
    kind = ARCHIVED_KIND if archived else CURSOR_KIND
    sort_by, sort_order = query["sort_by"], "asc" if query["sort_order"] == "asc" else "desc"
    by_cursor = query["cursor"] is not None
    page = store.ListPage(query["limit"], None if by_cursor else query["page"],
                          _position(db, query, filters, sort_by, sort_order, kind) if by_cursor else None,
                          count=query["include_total"] is not False, include=query["include"] or ())
    total, rows = (archive.list_archived if archived else store.list_sessions)(db, filters, sort_by, sort_order, page)
    following = None
    if by_cursor and len(rows) > page.limit:
        rows = rows[: page.limit]
        following = cursors.seal(kind, _binding(db, filters, sort_by, sort_order),
                                 list_keyset.position_of(rows[-1], sort_by), current_app.config["SETTINGS"].cursor_key)
    data = [shaped_list_item(row, render.session_list_item(row, render.session_name(row, row["runs"], for_list=True)),
                             query["fields"], page.include) for row in rows]
    if archived:
        data = [{**item, **{key: row[key] for key in ARCHIVE_KEYS}} for item, row in zip(data, rows, strict=True)]
    response = with_applied(json_response({"data": data, "meta": _meta(query, page, total, following)}),
                            [*applied_filters, *(name for name in (*LIST_CURSORS.parameters, *LIST_SHAPE.parameters)
                                                 if query[name] is not None)])
    if following is not None:
        response.headers["Link"] = link("cursor", following, "next")
    return response


def rows_by_id(db: Database, session_ids: list[str], owner: str | None) -> dict[str, dict]:
    """The list rows of these sessions (the caller's own when `owner` is given), rendered as the list renders them,
    by id; a session that is gone is absent (the change feed's include=session)."""
    page = store.ListPage(len(session_ids), 1, count=False)
    _, rows = store.list_sessions(db, {"session_ids": session_ids, "user_id": owner}, "created_at", "desc", page)
    return {row["session_id"]: shaped_list_item(row, render.session_list_item(
        row, render.session_name(row, row["runs"], for_list=True)), None, ()) for row in rows}


def _meta(query: dict, page: store.ListPage, total: int | None, following: str | None) -> dict:
    """AgentOS's PaginationInfo; a cursor page has no page number and names its next cursor (null: the last
    page); a page read without its total has neither total_count nor total_pages."""
    meta: dict = {} if page.page is None else {"page": page.page}
    meta["limit"] = page.limit
    if total is not None:
        meta["total_pages"] = -(-total // page.limit)  # integer ceil: limits reach 2**63
        meta["total_count"] = total
    meta["search_time_ms"] = 0.0
    if page.page is None:
        meta["next_cursor"] = following
    return meta


def _position(db: Database, query: dict, filters: dict, sort_by: str, sort_order: str, kind: str) -> dict | None:
    """The keyset position `cursor` holds (None: the first page); 400 for a cursor this service did not seal for
    this query, and for what cannot be paged by cursor (a page number beside it, a JSON sort column)."""
    if "page" in request.args:
        raise ApiError(400, "cursor and page cannot be combined: a cursor page is not numbered")
    if not store.cursor_sortable(sort_by):
        raise ApiError(400, f"Cursor pages cannot be sorted by {sort_by}: it holds JSON documents")
    if query["cursor"] == "":
        return None
    key = current_app.config["SETTINGS"].cursor_key
    position = cursors.unseal(query["cursor"], kind, _binding(db, filters, sort_by, sort_order), key)
    if not list_keyset.valid_position(position, sort_by):
        raise cursors.CursorInvalid()
    return position


def _binding(db: Database, filters: dict, sort_by: str, sort_order: str) -> list:
    """What a list cursor is valid for: this table, these filters (the caller's user included) and this order
    (the page size and the other extensions may change between pages)."""
    return [db.config.db_id, db.config.schema, db.config.session_table, filters, sort_by, sort_order]
