"""GET /sessions/{id}?history_limit=N[&history_before=<cursor>|&history_after=<cursor>|&history_around=<message>]
(extension `history-window`): the detail with N messages of chat_history, the last ones before the cursor, the
first ones after it, or those centred on one message (a search hit's deep link), reading only the runs it shows."""

from __future__ import annotations

import dataclasses
import time

from flask import current_app, request
from werkzeug.wrappers import Response

from service.api.links import link
from service.api.responses import json_response, not_modified, with_applied, with_etag
from service.rules import agno, cursors, etags, render
from service.rules.errors import ApiError
from service.rules.extensions import HISTORY_WINDOW
from service.rules.render.history import NewerWindow, Page, centred_page, newer_page
from service.storage import history
from service.storage.pool import Database

CURSOR_KIND = "history"


_WINDOW_CURSORS = ("history_before", "history_after", "history_around")


def windowed_detail(db: Database, session_id: str, query: dict, owner: str | None) -> Response | None:
    """The windowed detail, or None when the window cannot apply and the caller answers AgentOS's detail (and its
    404): no such session for this caller, a workflow detail (it has no chat_history), or a half-migrated agno 2.x
    session (its runs' order needs the full read). A bad cursor is 400 before anything is read, and so is a cursor
    without a window size or beside another (a rule between parameters, which AgentOS answers with 400 too: `table`
    needs `db_id`); a message `history_around` does not name is 404."""
    given = [name for name in _WINDOW_CURSORS if query[name] is not None]
    if query["history_limit"] is None:
        raise ApiError(400, f"{given[0]} needs history_limit")
    if len(given) > 1:
        raise ApiError(400, "history_before, history_after and history_around cannot be combined")
    key = current_app.config["SETTINGS"].cursor_key
    binding = _binding(db, session_id)
    cursor = {name: render.Position.from_json(cursors.unseal(query[name], CURSOR_KIND, binding, key))
              for name in ("history_before", "history_after") if query[name] is not None}
    row = history.session_row(db, session_id, owner)
    if row is None:
        return None
    as_type = query["session_type"] or agno.detect_session_type(row)
    if as_type == "workflow" or row.pop("legacy_runs"):
        return None
    if etags.if_none_match_hits(request.headers.get("If-None-Match"), row["etag"]):
        return not_modified(row["etag"])
    limit, now = query["history_limit"], int(time.time())
    if query["history_around"] is not None:
        page = _around(db, session_id, query["history_around"], limit)
    elif "history_after" in cursor:
        page = _newer(db, session_id, cursor["history_after"], limit)
    else:
        page = _older(db, session_id, cursor.get("history_before"), limit)
    detail = render.session_detail(row, _naming_runs(db, row, as_type), as_type, now=now,
                                   history=page.messages(now))
    applied = [name for name in HISTORY_WINDOW.parameters if query[name] is not None]
    response = with_etag(with_applied(json_response(render.drop_none(detail)), applied), row["etag"])
    links = [link(name, cursors.seal(CURSOR_KIND, binding, position.as_json(), key), rel, _WINDOW_CURSORS)
             for name, position, rel in (("history_before", page.prev, "prev"), ("history_after", page.next, "next"))
             if position is not None]
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _older(db: Database, session_id: str, before: render.Position | None, limit: int) -> Page:
    """The last `limit` messages before `before` (None: the newest), and the cursor to older ones."""
    window = render.HistoryWindow(limit, before)
    if limit > 0:
        _feed(window, db, session_id, "newest", before, limit)
    return Page(window.collected[:limit][::-1], window.older, None)


def _newer(db: Database, session_id: str, after: render.Position, limit: int) -> Page:
    """The first `limit` messages after `after`, with cursors to older and newer ones."""
    window = NewerWindow(limit, after)
    if limit > 0:
        _feed(window, db, session_id, "oldest", after, limit)
    return newer_page(window)


def _around(db: Database, session_id: str, reference: str, limit: int) -> Page:
    """`limit` messages centred on the one `reference` names (404 when chat_history shows none by that name)."""
    found = history.message_at(db, session_id, reference)
    if found is None:
        raise ApiError(404, f"Message '{reference}' not found in session '{session_id}'")
    target = render.Position(found["run_index"], found["created_at"], found["run_id"], found["position"])
    if limit == 0:
        return Page([], None, None)
    older = render.HistoryWindow(limit - 1, target)
    _feed(older, db, session_id, "newest", target, limit)
    from_target = NewerWindow(limit, dataclasses.replace(target, message=target.message - 1))
    _feed(from_target, db, session_id, "oldest", target, limit + 1)
    return centred_page(older, from_target, limit)


def _feed(window: render.HistoryWindow | NewerWindow, db: Database, session_id: str, direction: str,
          start: render.Position | None, first: int) -> None:
    """Read runs from `start`'s run (included) in `direction` into `window` until it is full or they run out."""
    key = None if start is None else (start.run_index, start.created_at, start.run_id)
    for rows in history.runs_from(db, session_id, direction, key, True, first=first + 1):
        if window.feed(rows):
            break


def _binding(db: Database, session_id: str) -> list[str]:
    """What a history cursor is valid for: this session of this database's table."""
    return [db.config.db_id, db.config.schema, db.config.session_table, session_id]


def _naming_runs(db: Database, row: dict, as_type: str) -> list[dict]:
    """The leading runs the session's name derives from (none when it has a stored name): usually the first."""
    runs: list[dict] = []
    if render.name_decided(row, runs, as_type):
        return runs
    for rows in history.runs_from(db, row["session_id"], "oldest", None, False, first=2):
        runs += [r["run_data"] for r in rows]
        if render.name_decided(row, runs, as_type):
            break
    return runs

