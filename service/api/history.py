"""GET /sessions/{id}?history_limit=N[&history_before=<cursor>] (extension `history-window`): the detail with
the last N messages of chat_history before the cursor, reading only the runs it shows."""

from __future__ import annotations

import time

from flask import current_app
from werkzeug.wrappers import Response

from service.api.links import link
from service.api.responses import json_response, with_applied
from service.rules import agno, cursors, render
from service.rules.errors import ApiError
from service.rules.extensions import HISTORY_WINDOW
from service.storage import history
from service.storage.pool import Database

CURSOR_KIND = "history"


def windowed_detail(db: Database, session_id: str, query: dict, owner: str | None) -> Response | None:
    """The windowed detail, or None when the window cannot apply and the caller answers AgentOS's detail (and its
    404): no such session for this caller, a workflow detail (it has no chat_history), or a half-migrated agno 2.x
    session (its runs' order needs the full read). A bad cursor is 400 before anything is read, and so is a cursor
    without a window size (a rule between parameters, which AgentOS answers with 400 too: `table` needs `db_id`)."""
    if query["history_limit"] is None:
        raise ApiError(400, "history_before needs history_limit")
    key = current_app.config["SETTINGS"].cursor_key
    binding = _binding(db, session_id)
    before = None
    if query["history_before"] is not None:
        before = render.Position.from_json(cursors.unseal(query["history_before"], CURSOR_KIND, binding, key))
    row = history.session_row(db, session_id, owner)
    if row is None:
        return None
    as_type = query["session_type"] or agno.detect_session_type(row)
    if as_type == "workflow" or row.pop("legacy_runs"):
        return None
    window = render.HistoryWindow(query["history_limit"], before)
    if query["history_limit"] > 0:
        start = None if before is None else (before.run_index, before.created_at, before.run_id)
        for rows in history.runs_from(db, session_id, "newest", start, True, first=query["history_limit"] + 1):
            if window.feed(rows):
                break
    now = int(time.time())
    detail = render.session_detail(row, _naming_runs(db, row, as_type), as_type, now=now,
                                   history=window.messages(now))
    applied = [name for name in HISTORY_WINDOW.parameters if query[name] is not None]
    response = with_applied(json_response(render.drop_none(detail)), applied)
    if window.older is not None:
        token = cursors.seal(CURSOR_KIND, binding, window.older.as_json(), key)
        response.headers["Link"] = link("history_before", token, "prev")
    return response


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

