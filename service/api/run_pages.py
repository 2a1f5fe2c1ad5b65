"""GET /sessions/{id}/runs and /run-previews with `limit`, `after`, `order` (extension `run-cursors`): keyset pages
along agno's run order, read from the runs table page by page instead of the whole session."""

from __future__ import annotations

from typing import Any

from flask import current_app
from werkzeug.wrappers import Response

from service.api.links import link
from service.api.responses import json_response, with_applied
from service.rules import agno, cursors, render
from service.rules.extensions import RUN_CURSORS
from service.storage import history
from service.storage.pool import Database

CURSOR_KIND = "runs"
PAGING = tuple(name for name in RUN_CURSORS.parameters if name != "exclude")  # limit, after, order
_DIRECTION = {"asc": "oldest", "desc": "newest"}  # AgentOS lists runs oldest first


def paging_requested(query: dict) -> bool:
    """Whether any paging parameter was given (absent: AgentOS's whole listing)."""
    return any(query[name] is not None for name in PAGING)


def paged_items(db: Database, session_id: str, query: dict, owner: str | None
                ) -> tuple[list[dict], str | None, list[str]] | None:
    """One page of classified run items, the cursor of the next page (None: none), and the paging parameters that
    took effect; None when the session is missing for this caller or keeps agno 2.x runs in its row (the caller
    answers AgentOS's listing or 404). A bad cursor is 400 before anything is read."""
    key = current_app.config["SETTINGS"].cursor_key
    order = query["order"] or "asc"
    binding = _binding(db, session_id, query, order)
    start = None
    if query["after"] is not None:
        # The position holds a run's key; the message field of the shared position type is unused (0).
        position = render.Position.from_json({**cursors.unseal(query["after"], CURSOR_KIND, binding, key), "m": 0})
        start = (position.run_index, position.created_at, position.run_id)
    row = history.session_row(db, session_id, owner)
    if row is None or row.pop("legacy_runs"):
        return None
    as_type = query["session_type"] or agno.detect_session_type(row)
    limit = query["limit"]
    kept: list[tuple[tuple[Any, int, str], dict]] = []
    for rows in history.runs_from(db, session_id, _DIRECTION[order], start, False, first=(limit or 100) + 1):
        kept += _classified(row, rows, query, as_type)
        if limit is not None and len(kept) > limit:
            break
    following = None
    if limit is not None and len(kept) > limit:
        kept = kept[:limit]
        run_index, created_at, run_id = kept[-1][0]
        following = cursors.seal(CURSOR_KIND, binding,
                                 render.Position(run_index, created_at, run_id, 0).as_json(), key)
    applied = [name for name in PAGING if query[name] is not None]
    return [item for _, item in kept], following, applied


def paged_response(items: list[dict], following: str | None, applied: list[str], limit: int | None) -> Response:
    """The page in AgentOS's array shape; `Link: rel="next"` when more runs follow, `X-Has-More` when `limit`
    was given."""
    response = with_applied(json_response(items), applied)
    if following is not None:
        response.headers["Link"] = link("after", following, "next")
    if limit is not None:
        response.headers["X-Has-More"] = "true" if following is not None else "false"
    return response


def without_heavy_keys(item: dict, exclude: tuple[str, ...]) -> dict:
    """A rendered run without the keys `exclude` names."""
    return {k: v for k, v in item.items() if k not in exclude} if exclude else item


def _classified(row: dict, rows: list[dict], query: dict, as_type: str) -> list[tuple[tuple[Any, int, str], dict]]:
    """The runs of one page of run rows that the listing's filters keep, each rendered with its row's key."""
    out = []
    for run_row in rows:
        runs = render.filter_runs([run_row["run_data"]], statuses=query["status"],
                                  created_after=query["created_after"], created_before=query["created_before"])
        for item in render.session_runs(row, runs, as_type):
            out.append(((run_row["run_index"], run_row["created_at"], run_row["run_id"]), item))
    return out


def _binding(db: Database, session_id: str, query: dict, order: str) -> list:
    """What a runs cursor is valid for: this session of this table, read as this type, in this order, through
    these filters (the page size may change between pages)."""
    statuses = sorted({s.upper() for s in query["status"]}) if query["status"] else None
    return [db.config.db_id, db.config.schema, db.config.session_table, session_id, query["session_type"], order,
            statuses, query["created_after"], query["created_before"]]
