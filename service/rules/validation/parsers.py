"""One parser per route: query and body in FastAPI's order (the body is decoded first), errors as it lists them."""

from __future__ import annotations

from functools import cache
from typing import Any

from werkzeug.datastructures import MultiDict

from service.rules.agno import summary_errors
from service.rules.changes import EVENT_TYPES, event_types
from service.rules.validation.body import ABSENT, decode, deep_json, media_type, model_body
from service.rules.validation.depth import state_depth, stored_depth_errors
from service.rules.validation.errors import STRING, error, le_error
from service.rules.validation.json_patch import JSON_PATCH, json_patch_body
from service.rules.validation.list_filters import with_metadata_filters
from service.rules.validation.models import (
    CHANGES_PAGE_ONLY,
    MAX_BULK_ARCHIVE,
    MAX_SEARCH_CHARS,
    AnyObject,
    ArchiveBody,
    BulkArchiveBody,
    BulkDeleteBody,
    ChangesQuery,
    CreateBody,
    CreateExtension,
    CreateQuery,
    DbQuery,
    DeleteQuery,
    DetailQuery,
    EraseBody,
    HistoryQuery,
    HoldBody,
    ImportQuery,
    ListFilterQuery,
    ListPageQuery,
    ListQuery,
    ListShapeQuery,
    Model,
    PatchBody,
    RunExcludeQuery,
    RunPageQuery,
    RunsQuery,
    SearchQuery,
    SessionSearchQuery,
    StateQuery,
)
from service.rules.validation.outcome import Outcome, Parsed, finish
from service.rules.validation.query import validate_query
from service.rules.validation.sanitize import JSON_BODY_FIELDS, sanitize_strings
from service.rules.validation.storable import BIGINT_MAX, column_errors, run_errors, storable_errors


@cache
def _shared(model: type[Model]) -> Model:
    """One instance per parameter group, built on first use: building a marshmallow schema deep-copies its
    fields (a large share of a small request's CPU), and loading never changes the schema, so requests share it."""
    return model()


def _rename_body(body: Any) -> Outcome:
    name = body.get("session_name", ABSENT) if isinstance(body, dict) else ABSENT
    if name is ABSENT:
        return Outcome(None, [error("missing", ("body", "session_name"), "Field required", None)])
    if not isinstance(name, str):
        return Outcome(None, [error("string_type", ("body", "session_name"), STRING, name)])
    return Outcome({"session_name": sanitize_strings(name)}, deferred=storable_errors(name, ("body", "session_name")))


def _patch_body(body: Any) -> Outcome:
    out = model_body(_shared(PatchBody), body, required=True)
    if not out.errors:
        with deep_json():
            out.deferred = (stored_depth_errors(out.value, None)
                            or column_errors(out.value, _shared(PatchBody).fields, varchar=False)
                            or summary_errors(out.value["summary"], ("body", "summary")))
            out.value = sanitize_strings(out.value)
    return out


def _create_body(body: Any, session_type: str) -> Outcome:
    out = model_body(_shared(CreateBody), body, required=False)
    if out.errors:
        return out
    extra, extra_errors = _shared(CreateExtension).parse(body if isinstance(body, dict) else {}, "body")
    component = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}[session_type]
    value = {**out.value, **extra}
    with deep_json():
        out.deferred = (
            extra_errors
            or stored_depth_errors(value, session_type)
            or column_errors(value, ("session_id", "user_id", component), varchar=True)
            + column_errors(value, ("session_name", "session_state", "metadata", "runs", "summary"), varchar=False)
            or run_errors(extra["runs"]) + summary_errors(extra["summary"], ("body", "summary")))
        out.value = {k: sanitize_strings(v) if k in JSON_BODY_FIELDS else v for k, v in value.items()}
    return out


def _bulk_delete_body(body: Any) -> Outcome:
    out = model_body(_shared(BulkDeleteBody), body, required=True)
    if not out.errors:
        out.deferred = column_errors(out.value, ("session_ids",), varchar=True)
    return out


def _list_query(args: MultiDict) -> Outcome:
    out = validate_query(_shared(ListQuery), args, ("component_id", "user_id", "session_name"))
    limit, page = out.value["limit"], out.value["page"]
    if "limit" in args and isinstance(limit, int) and limit > BIGINT_MAX:
        out.deferred.append(le_error(("query", "limit"), args.getlist("limit")[-1], BIGINT_MAX))
    if "page" in args and isinstance(page, int):
        # AgentOS: page=0 → ValueError 500; a page past bigint → DataError 500. A page whose offset
        # (page-1)*limit passes bigint is simply past the data: the store answers it with an empty page.
        raw = args.getlist("page")[-1]
        if page == 0:
            out.deferred.append(error("greater_than_equal", ("query", "page"),
                                      "Input should be greater than or equal to 1", raw, {"ge": 1}))
        elif page > BIGINT_MAX:
            out.deferred.append(le_error(("query", "page"), raw, BIGINT_MAX))
    return out


def _state_patch_body(body: Any) -> Outcome:
    out = model_body(_shared(AnyObject), body, required=True)
    if not out.errors:
        with deep_json():
            out.deferred = state_depth(body, "agent", ("body",)) or storable_errors(body, ("body",))
            out.value = sanitize_strings(body)
    return out



# ---------------------------------------------------------------------- one parser per route
# Routes with a body: FastAPI reads the body before validating anything, so json_invalid (422) and the 400 hide
# query errors; query errors are listed before body errors.


def list_query(args: MultiDict) -> Parsed:
    """GET /sessions: filters, paging and sorting (`type` comes back as `session_type`, as agno names it), plus the
    list extensions (metadata and date filters, cursor pages, optional total, row shape: their 422s wait for the
    database)."""
    query = _with_extensions(_list_query(args), args, ListFilterQuery, ListPageQuery, ListShapeQuery)
    search = validate_query(_shared(SessionSearchQuery), args, ())  # extension `session-search`: AgentOS ignores q
    query.value = {**query.value, **search.value}
    query.deferred += _search_text_errors(search.value["q"], "q" in args, required=False) + search.errors
    return finish(with_metadata_filters(query, args))


def _search_text_errors(q: Any, given: bool, required: bool) -> list[dict]:
    """What is wrong with `q` of the search extensions: required by message search, 1 to MAX_SEARCH_CHARS
    characters, no NUL (PostgreSQL's text cannot hold one); a non-string is the model's string_type error."""
    loc = ("query", "q")
    if not given:
        return [error("missing", loc, "Field required", None)] if required else []
    if not isinstance(q, str):
        return []
    if not q:
        return [error("string_too_short", loc, "String should have at least 1 character", q, {"min_length": 1})]
    if len(q) > MAX_SEARCH_CHARS:
        return [error("string_too_long", loc, f"String should have at most {MAX_SEARCH_CHARS} characters", q,
                      {"max_length": MAX_SEARCH_CHARS})]
    return storable_errors(q, loc, varchar=True)


def search_query(args: MultiDict) -> Parsed:
    """GET /sessions/-/search (extension `message-search`): the text, its filters, the mode and the page; every error
    is this service's own 422, listed (q's first) once the database is resolved, as the other extensions' are."""
    query = validate_query(_shared(SearchQuery), args, ("component_id", "user_id"))
    text = _search_text_errors(query.value["q"], "q" in args, required=True)
    query.deferred, query.errors = text + query.errors + query.deferred, []
    return finish(query)


def changes_query(args: MultiDict) -> Parsed:
    """GET /sessions/-/changes (extension `change-feed`): the cursor, page size, wait, the list's filters and the
    event type patterns (`session.*,run.created`, parsed to the types they name: `events_types`)."""
    return _change_feed(_shared(ChangesQuery), args)


def change_stream_query(args: MultiDict) -> Parsed:
    """GET /sessions/-/events (`agno-session serve-events`): the long-poll's own model and checks without its
    page's parameters, so both transports answer the same bad filter with the same 422."""
    return _change_feed(_stream_model(), args)


@cache
def _stream_model() -> Model:
    return ChangesQuery(exclude=CHANGES_PAGE_ONLY)


def _change_feed(model: Model, args: MultiDict) -> Parsed:
    """The change feed's query on either transport: FastAPI-shaped errors for `type`, `events` and the page's
    parameters at once, NULs in the SQL-bound filters deferred until the database is resolved."""
    query = validate_query(model, args, ("component_id", "user_id", "session_id"))
    query.value["event_types"] = None
    raw = query.value["events"]
    if isinstance(raw, str):
        try:
            query.value["event_types"] = event_types(raw)
        except ValueError:
            query.errors.append(error("value_error", ("query", "events"), "Value error, events must be a comma-"
                                      f"separated list of event types or patterns: {', '.join(EVENT_TYPES)}, "
                                      "session.*, run.*, *", raw, {"error": {}}))
    return finish(query)


def detail_query(args: MultiDict) -> Parsed:
    """GET /sessions/{id} and its single run: type, user_id, db_id, table."""
    return finish(validate_query(_shared(DetailQuery), args))


def session_query(args: MultiDict) -> Parsed:
    """GET /sessions/{id}: the detail query plus the history window (extension: its 422s wait for the database,
    as AgentOS ignores these parameters)."""
    return finish(_with_extensions(validate_query(_shared(DetailQuery), args), args, HistoryQuery))


def _with_extensions(query: Outcome, args: MultiDict, *groups: type[Model]) -> Outcome:
    """`query` plus extension parameter groups, whose 422s wait for the database (AgentOS ignores them)."""
    for group in groups:
        extension = validate_query(_shared(group), args, ())
        query.value = {**query.value, **extension.value}
        query.deferred += extension.errors
    return query


def runs_query(args: MultiDict) -> Parsed:
    """GET /sessions/{id}/runs: `status` is the raw repeated list (None when absent); paging and exclude."""
    return finish(_with_extensions(validate_query(_shared(RunsQuery), args), args, RunPageQuery, RunExcludeQuery))


def run_previews_query(args: MultiDict) -> Parsed:
    """GET /sessions/{id}/run-previews: the runs filters and paging (previews hold no heavy keys to exclude)."""
    query = _with_extensions(validate_query(_shared(RunsQuery), args), args, RunPageQuery)
    query.value["exclude"] = ()
    return finish(query)


def run_query(args: MultiDict) -> Parsed:
    """GET /sessions/{id}/runs/{run_id}: the detail query plus exclude."""
    return finish(_with_extensions(validate_query(_shared(DetailQuery), args), args, RunExcludeQuery))


def import_query(args: MultiDict) -> Parsed:
    """POST /sessions/-/import (extension `portability`): db_id, on_conflict, dry_run."""
    return finish(validate_query(_shared(ImportQuery), args))


def delete_query(args: MultiDict) -> Parsed:
    """DELETE /sessions/{id}: user_id, db_id, table, delete_media."""
    return finish(validate_query(_shared(DeleteQuery), args))


def create_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """POST /sessions: type (default agent), db_id; AgentOS's eight optional fields plus our `runs` and `summary`."""
    decoded = decode(raw, content_type)
    query = validate_query(_shared(CreateQuery), args, ())
    return finish(query, _create_body(decoded, query.value["session_type"] or "agent"))


def rename_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """POST /sessions/{id}/rename: the embedded {"session_name": str} (control characters stripped, as agno does)."""
    body = _rename_body(decode(raw, content_type))
    return finish(validate_query(_shared(DetailQuery), args), body)


def patch_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """PATCH /sessions/{id}: session_name, session_state, metadata, summary (None means no-op, as in agno)."""
    body = _patch_body(decode(raw, content_type))
    return finish(validate_query(_shared(DetailQuery), args), body)


def bulk_delete_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """DELETE /sessions: session_ids (≥1 str) and session_types (≥1 of agent|team|workflow)."""
    body = _bulk_delete_body(decode(raw, content_type))
    return finish(validate_query(_shared(DeleteQuery), args), body)


def erase_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """POST /sessions/-/erase (extension `erasure`): user_id (a non-empty string), dry_run, override_holds."""
    body = model_body(_shared(EraseBody), decode(raw, content_type), required=True)
    if not body.errors:
        user_id = body.value["user_id"]
        if not user_id:
            body.errors.append(error("string_too_short", ("body", "user_id"),
                                     "String should have at least 1 character", user_id, {"min_length": 1}))
        body.deferred = storable_errors(user_id, ("body", "user_id"), varchar=True)
    return finish(validate_query(_shared(DbQuery), args), body)


def db_query(args: MultiDict) -> Parsed:
    """A route beyond AgentOS whose only parameter is db_id."""
    return finish(validate_query(_shared(DbQuery), args))


def state_merge_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """PATCH /sessions/{id}/state (extension): user_id, db_id, table; a free-form JSON object (a merge patch), or
    as `application/json-patch+json` a JSON Patch (extension `json-patch`: the body is JsonPatchOps)."""
    decoded = decode(raw, content_type)
    is_json_patch = content_type is not None and media_type(content_type) == JSON_PATCH
    body = json_patch_body(decoded) if is_json_patch else _state_patch_body(decoded)
    return finish(validate_query(_shared(StateQuery), args), body)


def _lifecycle_body(model: type[Model], body: Any, required: bool, varchar: tuple[str, ...]) -> Outcome:
    """An archive or hold body: the model's fields, strings PostgreSQL can store."""
    out = model_body(_shared(model), body, required=required)
    if not out.errors:
        out.deferred = column_errors(out.value, varchar, varchar=True)
    return out


def archive_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """POST /sessions/{id}/archive (extension `archive`): user_id, db_id, table; an optional {"reason"}."""
    body = _lifecycle_body(ArchiveBody, decode(raw, content_type), False, ("reason",))
    return finish(validate_query(_shared(StateQuery), args), body)


def bulk_archive_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """POST /sessions/-/archive (extension `archive`): {"session_ids": [1 to MAX_BULK_ARCHIVE ids], "reason"}."""
    body = _lifecycle_body(BulkArchiveBody, decode(raw, content_type), True, ("session_ids", "reason"))
    ids = body.value["session_ids"] if not body.errors else []
    if len(ids) > MAX_BULK_ARCHIVE:
        body.errors.append(error("too_long", ("body", "session_ids"),
                                 f"List should have at most {MAX_BULK_ARCHIVE} items after validation, not "
                                 f"{len(ids)}", None, {"field_type": "List", "max_length": MAX_BULK_ARCHIVE,
                                                       "actual_length": len(ids)}))
    return finish(validate_query(_shared(StateQuery), args), body)


def hold_request(args: MultiDict, raw: bytes | None, content_type: str | None) -> Parsed:
    """PUT /sessions/{id}/hold (extension `legal-holds`): user_id, db_id, table; {"reason", "until"}."""
    body = _lifecycle_body(HoldBody, decode(raw, content_type), True, ("reason",))
    return finish(validate_query(_shared(StateQuery), args), body)


def state_query(args: MultiDict) -> Parsed:
    """A per-session extension route without a body (restore, hold release): user_id, db_id, table."""
    return finish(validate_query(_shared(StateQuery), args))
