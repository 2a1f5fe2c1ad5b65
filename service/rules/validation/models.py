"""The parameter groups and bodies of each route, declared as FastAPI declares them in AgentOS."""

from __future__ import annotations

from service.core.pg_limits import BIGINT_MAX
from service.rules.agno import SESSION_TYPES
from service.rules.validation.fields import (
    Choice,
    CommaChoices,
    Flag,
    JsonInt,
    ListOf,
    Model,
    Object,
    QueryBool,
    QueryInt,
    Text,
)

SORT_ORDERS = ("asc", "desc")

# query parameter groups


def _session_type(default: str | None = None) -> Choice:
    return Choice(SESSION_TYPES, data_key="type", default=default)


class ListQuery(Model):
    session_type = _session_type()
    component_id = Text()
    user_id = Text()
    session_name = Text()
    limit = QueryInt(ge=1, default=20)
    page = QueryInt(ge=0, default=1)
    sort_by = Text(default="created_at")
    sort_order = Choice(SORT_ORDERS, default="desc")
    db_id = Text()
    table = Text()


LIST_FIELDS = (
    "session_id", "session_name", "session_state", "created_at", "updated_at", "session_type", "user_id", "agent_id",
    "team_id", "workflow_id", "session_summary", "metrics", "total_tokens", "metadata",
)  # SessionSchema's keys, in its order
LIST_INCLUDES = ("run_count", "last_run_at", "last_run_status", "last_message", "total_tokens")


class ListPageQuery(Model):
    """Extension `list-cursors` on the list; AgentOS ignores these, so their errors are extension errors."""

    cursor = Text()
    include_total = QueryBool()


class ListShapeQuery(Model):
    """Extension `list-shape`: the keys each list row keeps (`fields`) and the computed keys it gains (`include`)."""

    fields = CommaChoices(LIST_FIELDS)
    include = CommaChoices(LIST_INCLUDES)


def _epoch_seconds() -> QueryInt:
    """An epoch-seconds bound as AgentOS's runs route takes it, within the bigint agno's timestamps are."""
    return QueryInt(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)


class ListFilterQuery(Model):
    """Extension `list-filters`: inclusive date bounds on the list (the `metadata.<key>` family is parsed beside
    it, list_filters.py); AgentOS ignores these, so their errors are extension errors."""

    created_after = _epoch_seconds()
    created_before = _epoch_seconds()
    updated_after = _epoch_seconds()
    updated_before = _epoch_seconds()


SEARCH_MODES = ("words", "phrase", "prefix")
SEARCH_ROLES = ("user", "assistant")
MAX_SEARCH_CHARS = 512
MAX_SEARCH_LIMIT = 100


class SearchQuery(Model):
    """Extension `message-search`: GET /sessions/-/search (`q` is checked beside it: required, 1-512 characters)."""

    q = Text()
    session_type = _session_type()
    component_id = Text()
    user_id = Text()
    role = Choice(SEARCH_ROLES)
    created_after = _epoch_seconds()
    created_before = _epoch_seconds()
    mode = Choice(SEARCH_MODES)
    limit = QueryInt(ge=1, le=MAX_SEARCH_LIMIT)
    after = Text()
    db_id = Text()
    table = Text()


MAX_CHANGES_LIMIT, MAX_CHANGES_WAIT = 1000, 30


class ChangesQuery(Model):
    """Extension `change-feed`: GET /sessions/-/changes (`events` is checked beside it: event type patterns)."""

    after = Text()
    limit = QueryInt(ge=1, le=MAX_CHANGES_LIMIT)
    wait = QueryInt(ge=0, le=MAX_CHANGES_WAIT)
    session_type = _session_type()
    component_id = Text()
    user_id = Text()
    session_id = Text()
    events = Text()
    include = Choice(("session",))
    db_id = Text()
    table = Text()


CHANGES_PAGE_ONLY = ("limit", "wait", "include", "table")  # the long-poll's own; the event stream has none of them


class SessionSearchQuery(Model):
    """Extension `session-search` on the list: `q`, the words a session's messages or stored name must hold."""

    q = Text()


class DetailQuery(Model):
    session_type = _session_type()
    user_id = Text()
    db_id = Text()
    table = Text()


class HistoryQuery(Model):
    """Extension `history-window` on the detail; AgentOS ignores both, so their errors are extension errors."""

    history_limit = QueryInt(ge=0, le=10000)
    history_before = Text()
    history_after = Text()
    history_around = Text()


RUN_HEAVY_KEYS = ("messages", "events", "tools", "reasoning_content")


class RunPageQuery(Model):
    """Extension `run-cursors` on the runs listings; AgentOS ignores these, so their errors are extension errors."""

    limit = QueryInt(ge=1, le=1000)
    after = Text()
    order = Choice(SORT_ORDERS)


class RunExcludeQuery(Model):
    """Extension `run-cursors`: heavy keys dropped from each run of /runs and /runs/{run_id}."""

    exclude = CommaChoices(RUN_HEAVY_KEYS)


class RunsQuery(Model):
    session_type = _session_type()
    user_id = Text()
    created_after = QueryInt()
    created_before = QueryInt()
    status = ListOf(Text())
    db_id = Text()
    table = Text()


class CreateQuery(Model):
    session_type = _session_type(default="agent")
    db_id = Text()


class DeleteQuery(Model):
    user_id = Text()
    db_id = Text()
    table = Text()
    delete_media = QueryBool(default=False)


class ImportQuery(Model):
    """Extension `portability`: POST /sessions/-/import's options."""

    db_id = Text()
    on_conflict = Choice(("skip", "fail", "replace"), default="skip")
    dry_run = QueryBool(default=False)


# body models


class CreateBody(Model):
    session_id = Text()
    session_name = Text()
    session_state = Object()
    metadata = Object()
    user_id = Text()
    agent_id = Text()
    team_id = Text()
    workflow_id = Text()


class CreateExtension(Model):
    """Our additive create fields; AgentOS ignores them, so their errors are extension errors."""

    runs = ListOf(Object())
    summary = Object()


class PatchBody(Model):
    session_name = Text()
    session_state = Object()
    metadata = Object()
    summary = Object()


class BulkDeleteBody(Model):
    session_ids = ListOf(Text(), required=True, nullable=False, min_length=1)
    session_types = ListOf(Choice(SESSION_TYPES), required=True, nullable=False, min_length=1)


class EraseBody(Model):
    """POST /sessions/-/erase (extension `erasure`)."""

    user_id = Text(required=True, nullable=False)
    dry_run = Flag(default=False, nullable=False)
    override_holds = Flag(default=False, nullable=False)


class DbQuery(Model):
    """Routes beyond AgentOS that only name their database."""

    db_id = Text()


class StateQuery(Model):
    user_id = Text()
    db_id = Text()
    table = Text()


class AnyObject(Model):
    """The state-merge body is a free-form JSON object: only its being an object is FastAPI-checked."""



MAX_BULK_ARCHIVE = 1000  # ids one bulk archive moves in its one transaction


class ArchiveBody(Model):
    """Extension `archive`: POST /sessions/{id}/archive's optional body."""

    reason = Text()


class BulkArchiveBody(Model):
    """Extension `archive`: POST /sessions/-/archive."""

    session_ids = ListOf(Text(), required=True, nullable=False, min_length=1)
    reason = Text()


class HoldBody(Model):
    """Extension `legal-holds`: PUT /sessions/{id}/hold (`until` an epoch in seconds, null: indefinite)."""

    reason = Text(required=True, nullable=False)
    until = JsonInt()
