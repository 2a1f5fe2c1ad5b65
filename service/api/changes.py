"""GET /sessions/-/changes (extension `change-feed`): the change log after a cursor, filtered as the list is, long-
polled up to `wait` seconds. Waiting holds the request's thread but no database connection: the log is read again
with a growing pause (POLL_FIRST doubling to POLL_MAX), each read one short statement. At most half of a worker's
threads wait at once (LONG_POLLS); a request beyond that answers at once, as with wait=0, so waiting clients never
take every thread. Without `agno-session migrate --changes` it answers 503 (error_handlers)."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from service.api import list_pages
from service.api.auth import current_caller
from service.api.inputs import parsed_query, request_database
from service.api.links import link
from service.api.responses import json_response, with_applied
from service.rules import changes as rules
from service.rules.errors import ApiError
from service.rules.extensions import CHANGE_FEED
from service.rules.validation import parsers
from service.storage import changes
from service.storage import deadline as request_deadline
from service.storage.changes import ChangeFilters, Page, Position
from service.storage.pool import Database

bp = Blueprint("changes", __name__)
DEFAULT_LIMIT = 100
POLL_FIRST, POLL_MAX = 0.05, 0.5  # seconds between reads while waiting: the p95 of commit-to-event stays well < 1 s
DEADLINE_MARGIN = 2.0  # seconds a wait leaves before AGNO_REQUEST_TIMEOUT for the last read and the answer
_QUERY_KEYS = {"type": "session_type"}  # parameter name → parsed query key, where they differ
_waiting: list[threading.BoundedSemaphore] = []  # this worker's long-poll slots, made on its first wait
_waiting_lock = threading.Lock()


@bp.get("/sessions/-/changes")
def changes_feed() -> Response:
    parsed = parsed_query(parsers.changes_query)
    db = request_database(parsed)
    q = parsed.query
    filters = ChangeFilters(type=q["session_type"], component_id=q["component_id"], user_id=q["user_id"],
                            session_id=q["session_id"], events=q["event_types"],
                            owner=current_caller().owner(None))  # isolation: a scoped caller's own sessions only
    key = current_app.config["SETTINGS"].cursor_key
    bound = rules.binding(_identity(db), filters.as_json())
    after = Position(*rules.unseal(q["after"], bound, key)) if q["after"] is not None else None
    try:
        page = _read(db, after, q["limit"] or DEFAULT_LIMIT, filters, q["wait"] or 0)
    except changes.CursorGone:
        raise ApiError(410, rules.GONE) from None
    _observe(db, page)
    sessions = _session_rows(db, page, filters.owner) if q["include"] == "session" else None
    data = []
    for row in page.events:
        item = rules.event(row, db.config.db_id, rules.seal(row["position"], bound, key))
        if sessions is not None:
            item["session"] = sessions.get(row["session_id"])
        data.append(item)
    following = rules.seal(page.next, bound, key)
    body = {"data": data, "next_cursor": following, "has_more": page.has_more}
    applied = [name for name in CHANGE_FEED.parameters if q[_QUERY_KEYS.get(name, name)] is not None]
    response = with_applied(json_response(body), applied)
    response.headers["Link"] = link("after", following, "next")
    return response


def _identity(db: Database) -> list[str]:
    """The log a cursor belongs to: this database's sessions table."""
    return [db.config.db_id, db.config.schema, db.config.session_table]


def _read(db: Database, after: Position | None, limit: int, filters: ChangeFilters, wait: int) -> Page:
    """One page; with `wait`, read again (pausing POLL_FIRST, doubling to POLL_MAX) until a change matches or the
    wait ends, moving past what did not match so each read looks at new changes only."""
    page = changes.read(db, after, limit, filters, resuming=True)  # the client's cursor: checked against the log
    left = request_deadline.remaining(None)
    until = time.monotonic() + (wait if left is None else max(0.0, min(wait, left - DEADLINE_MARGIN)))
    if page.events or page.has_more or time.monotonic() >= until:
        return page
    slots = _slots()
    if not slots.acquire(blocking=False):  # half the worker's threads already wait: answer now
        return page
    metrics = current_app.config["METRICS"]
    gauge = metrics.child(metrics.changes_waiting, db.config.db_id)
    gauge.inc()
    try:
        pause = POLL_FIRST
        while not page.events and not page.has_more and (now := time.monotonic()) < until:
            time.sleep(min(pause, until - now))
            pause = min(pause * 2, POLL_MAX)
            page = changes.read(db, page.next, limit, filters)
    finally:
        gauge.dec()
        slots.release()
    return page


def _slots() -> threading.BoundedSemaphore:
    """This worker's long-poll slots: half its threads (at least one), made by its first wait (requests are served
    in workers only, after the fork)."""
    with _waiting_lock:
        if not _waiting:
            _waiting.append(threading.BoundedSemaphore(max(1, current_app.config["SETTINGS"].threads // 2)))
        return _waiting[0]


def _observe(db: Database, page: Page) -> None:
    """The feed's metrics: events delivered, and how old the newest one was when delivered."""
    if not page.events:
        return
    metrics = current_app.config["METRICS"]
    metrics.child(metrics.changes_delivered, db.config.db_id).inc(len(page.events))
    lag = max(0.0, time.time() - page.events[-1]["at"] / 1000)
    metrics.child(metrics.changes_lag, db.config.db_id).observe(lag)


def _session_rows(db: Database, page: Page, owner: str | None) -> dict[str, dict]:
    """`include=session`: each named session's list row as the list renders it, read now (absent: deleted)."""
    ids = sorted({row["session_id"] for row in page.events})
    return list_pages.rows_by_id(db, ids, owner) if ids else {}
