"""The registry of extensions beyond AgentOS: what each adds (parameters, routes, headers) and its version, so the
capabilities answer, the `Agno-Session-Applied` header and the docs name the same things."""

from __future__ import annotations

from dataclasses import dataclass

APPLIED_HEADER = "Agno-Session-Applied"


@dataclass(frozen=True)
class Extension:
    """One opt-in capability: `version` grows when its contract changes in a way a client could notice."""

    name: str
    version: int
    summary: str
    parameters: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """The capabilities entry: every key present, lists possibly empty."""
        return {"name": self.name, "version": self.version, "summary": self.summary,
                "parameters": list(self.parameters), "routes": list(self.routes), "headers": list(self.headers)}


CAPABILITIES = Extension(
    "capabilities", 1, "Lists the extensions this service offers, each with its version.",
    routes=("GET /sessions/-/capabilities",))
CREATE_IMPORT = Extension(
    "create-import", 1, "POST /sessions accepts `runs` and `summary` in the body.",
    parameters=("runs", "summary"), routes=("POST /sessions",), headers=(APPLIED_HEADER,))
STATE_MERGE = Extension(
    "state-merge", 1, "JSON Merge Patch (RFC 7396) of session_state.",
    routes=("PATCH /sessions/{session_id}/state",))
STATE_JSON_PATCH = Extension(
    "json-patch", 1, "PATCH /sessions/{session_id}/state also takes a JSON Patch (RFC 6902, "
    "`application/json-patch+json`) of session_state; a failed `test` is 409 and writes nothing (test-and-set).",
    routes=("PATCH /sessions/{session_id}/state",))
HISTORY_WINDOW = Extension(
    "history-window", 2, "The detail's chat_history limited to its last messages, or to those around one message "
    "(a search hit's), with cursors to older and newer ones.",
    parameters=("history_limit", "history_before", "history_after", "history_around"),
    routes=("GET /sessions/{session_id}",), headers=(APPLIED_HEADER, "Link"))

RUN_CURSORS = Extension(
    "run-cursors", 1, "Keyset pages of a session's runs and run previews, and runs without their heavy keys.",
    parameters=("limit", "after", "order", "exclude"),
    routes=("GET /sessions/{session_id}/runs", "GET /sessions/{session_id}/run-previews",
            "GET /sessions/{session_id}/runs/{run_id}"),
    headers=(APPLIED_HEADER, "Link", "X-Has-More"))

LIST_CURSORS = Extension(
    "list-cursors", 1, "Keyset pages of the session list (stable while sessions are added and removed), and list "
    "pages without their total.",
    parameters=("cursor", "include_total"), routes=("GET /sessions",), headers=(APPLIED_HEADER, "Link"))
LIST_SHAPE = Extension(
    "list-shape", 1, "List rows with only the named keys, and with computed ones: run count, last run, last "
    "message, total tokens.",
    parameters=("fields", "include"), routes=("GET /sessions",), headers=(APPLIED_HEADER,))
LIST_FILTERS = Extension(
    "list-filters", 1, "The session list filtered by metadata values and by created or updated time.",
    parameters=("metadata.*", "created_after", "created_before", "updated_after", "updated_before"),
    routes=("GET /sessions",), headers=(APPLIED_HEADER,))

SEARCH_MODE_HEADER, SEARCH_ORDER_HEADER = "Agno-Search-Mode", "Agno-Search-Order"
MESSAGE_SEARCH = Extension(
    "message-search", 2, "Full-text search of what was said: the matching messages of every session, ranked (newest "
    "first when more match than are ranked), each with a snippet and a reference the detail's history_around opens.",
    parameters=("q", "type", "component_id", "user_id", "role", "created_after", "created_before", "mode", "limit",
                "after"),
    routes=("GET /sessions/-/search",), headers=(APPLIED_HEADER, SEARCH_MODE_HEADER, SEARCH_ORDER_HEADER, "Link"))
SESSION_SEARCH = Extension(
    "session-search", 1, "The session list filtered to sessions whose messages or stored name hold the words of `q`.",
    parameters=("q",), routes=("GET /sessions",), headers=(APPLIED_HEADER, SEARCH_MODE_HEADER))
PRECONDITIONS = Extension(
    "preconditions", 1, "An entity tag on every detail-shaped answer; If-None-Match on the detail (304) and If-Match "
    "on every write to one session (412 when the session has changed).",
    routes=("GET /sessions/{session_id}", "POST /sessions", "PATCH /sessions/{session_id}",
            "POST /sessions/{session_id}/rename", "PATCH /sessions/{session_id}/state",
            "DELETE /sessions/{session_id}"),
    headers=("ETag", "If-Match", "If-None-Match"))

IDEMPOTENCY_HEADER, REPLAYED_HEADER = "Idempotency-Key", "Idempotent-Replayed"
IDEMPOTENCY_KEYS = Extension(
    "idempotency-keys", 1, "An Idempotency-Key header (IETF draft) makes a create or bulk delete safe to retry: the "
    "first answer is kept with its write and answered again, marked Idempotent-Replayed.",
    routes=("POST /sessions", "DELETE /sessions", "POST /sessions/{session_id}/archive", "POST /sessions/-/archive",
            "POST /sessions/{session_id}/restore", "POST /sessions/-/erase", "POST /sessions/-/import"),
    headers=(IDEMPOTENCY_HEADER, REPLAYED_HEADER))

ARCHIVE = Extension(
    "archive", 1, "Archive sessions out of AgentOS's sight (one or many), list and purge the archived ones, and "
    "restore one column by column (`agno-session migrate --lifecycle`).",
    parameters=("reason", "session_ids"),
    routes=("POST /sessions/{session_id}/archive", "POST /sessions/-/archive", "POST /sessions/{session_id}/restore",
            "GET /sessions/-/archived", "DELETE /sessions/-/archived/{session_id}"),
    headers=(APPLIED_HEADER, "Link", "ETag", "If-Match", IDEMPOTENCY_HEADER))
LEGAL_HOLDS = Extension(
    "legal-holds", 1, "Legal holds (admin scope) that make archive, purge and this service's deletes of a session "
    "answer 409 until released or ended.",
    parameters=("reason", "until"),
    routes=("PUT /sessions/{session_id}/hold", "DELETE /sessions/{session_id}/hold", "DELETE /sessions/{session_id}",
            "DELETE /sessions"),
    headers=("If-Match",))

ERASURE = Extension(
    "erasure", 1, "Erasure of everything about one user (admin): counted by a dry run, or run as a job in small "
    "batches that ends with a receipt keeping only a keyed hash of the user id; held sessions refuse it unless "
    "overridden.",
    parameters=("user_id", "dry_run", "override_holds"),
    routes=("POST /sessions/-/erase", "GET /sessions/-/erasures/{receipt_id}"),
    headers=("Location", IDEMPOTENCY_HEADER))

PORTABILITY = Extension(
    "portability", 1, "One session's bundle (versioned NDJSON: the session, its runs and every row agno keeps beside "
    "it, verbatim), and a bundle imported session by session, each all or nothing (created, replaced, skipped or "
    "failed).",
    parameters=("on_conflict", "dry_run"),
    routes=("GET /sessions/{session_id}/export", "POST /sessions/-/import"), headers=(IDEMPOTENCY_HEADER,))

EVENT_STREAM = Extension(
    "event-stream", 1, "The change feed as server-sent events from `agno-session serve-events`: every committed change "
    "of the sessions the caller may read, resumable with Last-Event-ID (or `after`) without loss or repetition.",
    parameters=("type", "component_id", "user_id", "session_id", "events", "after", "db_id"),
    routes=("GET /sessions/-/events",), headers=("Last-Event-ID",))

CHANGE_FEED = Extension(
    "change-feed", 1, "Every change of every session and run (created, updated with the keys that changed, deleted), "
    "written by AgentOS, agno's runtime or this service, in commit order from a resumable cursor, long-polled "
    "(`agno-session migrate --changes`).",
    parameters=("after", "limit", "wait", "type", "component_id", "user_id", "session_id", "events", "include"),
    routes=("GET /sessions/-/changes",), headers=(APPLIED_HEADER, "Link"))

EXTENSIONS: tuple[Extension, ...] = (ARCHIVE, CAPABILITIES, CHANGE_FEED, CREATE_IMPORT, ERASURE, EVENT_STREAM,
                                      HISTORY_WINDOW,
                                      IDEMPOTENCY_KEYS,
                                      STATE_JSON_PATCH, LEGAL_HOLDS, LIST_CURSORS, LIST_FILTERS, LIST_SHAPE,
                                      MESSAGE_SEARCH, PORTABILITY, PRECONDITIONS, RUN_CURSORS, SESSION_SEARCH,
                                      STATE_MERGE)


def capabilities() -> dict:
    """The body of GET /sessions/-/capabilities."""
    return {"extensions": [extension.as_json() for extension in EXTENSIONS]}
