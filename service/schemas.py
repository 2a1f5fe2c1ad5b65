"""Request parsing for the /sessions routes, failing as AgentOS 3.1.10 (FastAPI 0.165, pydantic 2.14) does.

Every parser returns plain typed values or raises `RequestInvalid` carrying FastAPI's 422 `detail` list.
Two phases: first FastAPI's own checks, reproduced byte for byte; then, only when those pass, our
extension checks for inputs on which AgentOS answers 500 (page=0, bigint overflow, NUL bytes, lone
surrogates, NaN/Infinity) or which only our extensions read (`runs`, `summary` on create).
Routes with a body should use the `*_request` functions: FastAPI decodes the body first (a decode
failure hides every other error) and lists query errors before body errors.
"""

from __future__ import annotations

import email.message
import json
import math
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from marshmallow.utils import missing as _MISSING
from werkzeug.datastructures import MultiDict

from service.responses import ApiError

BIGINT_MAX = 2**63 - 1
# AgentOS's JSON decoder runs out of recursion at the 960th nested array/object: FastAPI's 400.
PARSE_DEPTH = 960
# pydantic-core serializes answers at most 255 levels deep (scalars count): a stored value nested deeper than
# its place in the answer allows makes AgentOS write the row and then fail with a 500.
ANSWER_DEPTH = 255
SESSION_TYPES = ("agent", "team", "workflow")
SORT_ORDERS = ("asc", "desc")
NO_NUL = "^[^\\x00]*$"
STRING = "Input should be a valid string"
NOT_UNICODE = STRING + ", unable to parse raw data as a unicode string"
NOT_OBJECT = "Input should be a valid dictionary or object to extract fields from"

# Rust's char::is_whitespace (Unicode White_Space): what pydantic-core trims around integers.
_RUST_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"
_JSON_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DIGIT_RUN = re.compile(r"-?([1-9][0-9]*)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_FALSE = {"0", "f", "n", "no", "off", "false"}
_TRUE = {"1", "t", "y", "on", "yes", "true"}


class RequestInvalid(Exception):
    """FastAPI's 422: `errors` is the `detail` list, each dict keyed type, loc, msg, input, ctx?.

    `parsed` is set when only our own checks failed (where AgentOS passes validation and fails later, with a
    500): the request then still resolves its database first, as AgentOS does, and answers 422 after that."""

    def __init__(self, errors: list[dict], parsed: Any = None):
        super().__init__(errors)
        self.errors = [_renderable(e) for e in errors]
        self.parsed = parsed


class BodyUnreadable(ApiError):
    """FastAPI's 400 for a JSON-typed body that is not decodable text (bad UTF-8, nesting too deep)."""

    def __init__(self) -> None:
        super().__init__(400, "There was an error parsing the body")


def error(type_: str, loc: Iterable, msg: str, input_: Any, ctx: dict | None = None) -> dict:
    """One pydantic error in FastAPI's key order."""
    out = {"type": type_, "loc": list(loc), "msg": msg, "input": input_}
    if ctx is not None:
        out["ctx"] = ctx
    return out


def _renderable(value: Any) -> Any:
    """What AgentOS cannot render (it 500s) made renderable: NaN/inf → null, lone surrogates → U+FFFD."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_renderable(v) for v in value]
    if isinstance(value, dict):
        return {_renderable(k): _renderable(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- pydantic's scalar rules


def parse_int(raw: str) -> int | str:
    """pydantic-core's str→int (jiter first, then the cleaned string); returns the int or the error type."""
    run = _DIGIT_RUN.match(raw)
    if run and len(run.group(1)) > 4300:
        return "int_parsing_size"
    if _JSON_INT.fullmatch(raw):
        return int(raw)
    cleaned = _clean_int(raw)
    if cleaned is not None and _JSON_INT.fullmatch(cleaned) and len(cleaned.lstrip("-")) <= 4300:
        return int(cleaned)
    return "int_parsing"


def _clean_int(s: str) -> str | None:
    """pydantic-core's clean_int_str: trim, one sign, leading zeros, `.0+`, single underscores."""
    before = len(s)
    s = s.strip(_RUST_WS)
    if s.startswith("+"):
        if s[1:].startswith("-"):
            return None
        s = s[1:]
    sign = ""
    if s.startswith("-"):
        if s[1:2] in ("-", "+"):
            return None
        sign, s = "-", s[1:]
    s = _strip_leading_zeros(s)
    if s is None:
        return None
    dot = s.find(".")
    if dot >= 0 and s[dot + 1:] and set(s[dot + 1:]) == {"0"}:
        s = s[:dot]
    if "_" in s and not (s.startswith("_") or s.endswith("_") or "__" in s):
        return sign + s.replace("_", "")
    return None if before == len(s) else sign + s


def _strip_leading_zeros(s: str) -> str | None:
    """pydantic-core's strip_leading_zeros, char for char."""
    if not s or not (s[0] == "0" or s[0] in "123456789-"):
        return None
    if s[0] != "0":
        return s
    for i, c in enumerate(s[1:], 1):
        if c in "0_":
            continue
        if c in "123456789-":
            return s[i:]
        if c == ".":
            return s[i - 1:]
        return None
    return s[-1]


def parse_bool(raw: str) -> bool | None:
    """pydantic-core's str→bool (ASCII case-insensitive, no trimming); None when not a boolean."""
    word = raw.lower() if raw.isascii() else raw
    return False if word in _FALSE else True if word in _TRUE else None


def _expected(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# --------------------------------------------------------------------------- marshmallow fields


class _Field(fields.Field):
    """Base field: errors are pydantic dicts with loc relative to the field; missing → `missing`."""

    def __init__(self, *, required: bool = False, default: Any = None, nullable: bool = True, **kwargs: Any):
        super().__init__(required=required, **kwargs)
        self.default, self.nullable = default, nullable

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping | None = None, **kw: Any) -> Any:
        if value is _MISSING:
            if self.required:
                # FastAPI echoes the whole body object as the input of a missing model field.
                raise ValidationError([error("missing", (), "Field required", dict(data or {}))])
            return self.default
        if value is None and self.nullable:
            return None
        return self.check(value)

    def check(self, value: Any) -> Any:
        return value

    @staticmethod
    def fail(type_: str, msg: str, value: Any, ctx: dict | None = None) -> None:
        raise ValidationError([error(type_, (), msg, value, ctx)])


class Text(_Field):
    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            self.fail("string_type", STRING, value)
        return value


class Object(_Field):
    def check(self, value: Any) -> dict:
        if not isinstance(value, dict):
            self.fail("dict_type", "Input should be a valid dictionary", value)
        return value


class Choice(_Field):
    def __init__(self, values: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.values = values

    def check(self, value: Any) -> str:
        if not (isinstance(value, str) and value in self.values):
            expected = _expected(self.values)
            self.fail("enum", f"Input should be {expected}", value, {"expected": expected})
        return value


class QueryInt(_Field):
    def __init__(self, *, ge: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.ge = ge

    def check(self, value: str) -> int:
        parsed = parse_int(value)
        if parsed == "int_parsing_size":
            self.fail(parsed, "Unable to parse input string as an integer, exceeded maximum size", value)
        if isinstance(parsed, str):
            self.fail(parsed, "Input should be a valid integer, unable to parse string as an integer", value)
        if self.ge is not None and parsed < self.ge:
            self.fail("greater_than_equal", f"Input should be greater than or equal to {self.ge}", value,
                      {"ge": self.ge})
        return parsed


class QueryBool(_Field):
    def check(self, value: str) -> bool:
        parsed = parse_bool(value)
        if parsed is None:
            self.fail("bool_parsing", "Input should be a valid boolean, unable to interpret input", value)
        return parsed


class ListOf(_Field):
    def __init__(self, item: _Field, *, min_length: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        self.item, self.min_length = item, min_length

    def check(self, value: Any) -> list:
        if not isinstance(value, list):
            self.fail("list_type", "Input should be a valid list", value)
        out, errors = [], []
        for i, v in enumerate(value):
            try:
                out.append(self.item.check(v))
            except ValidationError as exc:
                errors += [{**e, "loc": [i, *e["loc"]]} for e in exc.messages]
        if errors:
            raise ValidationError(errors)
        if len(out) < self.min_length:
            n, items = self.min_length, "item" if self.min_length == 1 else "items"
            self.fail("too_short", f"List should have at least {n} {items} after validation, not {len(out)}",
                      value, {"field_type": "List", "min_length": n, "actual_length": len(out)})
        return out


class _Model(Schema):
    """A FastAPI parameter group: loads into attribute names, reports errors in declaration order."""

    class Meta:
        unknown = EXCLUDE

    def parse(self, data: Mapping, prefix: str) -> tuple[dict, list[dict]]:
        try:
            return self.load(data), []
        except ValidationError as exc:
            errors = []
            for name, fld in self.fields.items():
                for e in exc.messages.get(fld.data_key or name, []):
                    errors.append({**e, "loc": [prefix, fld.data_key or name, *e["loc"]]})
            return {**{n: f.default for n, f in self.fields.items()}, **exc.valid_data}, errors


# --------------------------------------------------------------------------- query parameter groups


def _session_type(default: str | None = None) -> Choice:
    return Choice(SESSION_TYPES, data_key="type", default=default)


class ListQuery(_Model):
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


class DetailQuery(_Model):
    session_type = _session_type()
    user_id = Text()
    db_id = Text()
    table = Text()


class RunsQuery(_Model):
    session_type = _session_type()
    user_id = Text()
    created_after = QueryInt()
    created_before = QueryInt()
    status = ListOf(Text())
    db_id = Text()
    table = Text()


class CreateQuery(_Model):
    session_type = _session_type(default="agent")
    db_id = Text()


class DeleteQuery(_Model):
    user_id = Text()
    db_id = Text()
    table = Text()
    delete_media = QueryBool(default=False)


# --------------------------------------------------------------------------- body models


class CreateBody(_Model):
    session_id = Text()
    session_name = Text()
    session_state = Object()
    metadata = Object()
    user_id = Text()
    agent_id = Text()
    team_id = Text()
    workflow_id = Text()


class CreateExtension(_Model):
    """Our additive create fields; AgentOS ignores them, so their errors are extension errors."""

    runs = ListOf(Object())
    summary = Object()


class PatchBody(_Model):
    session_name = Text()
    session_state = Object()
    metadata = Object()
    summary = Object()


class BulkDeleteBody(_Model):
    session_ids = ListOf(Text(), required=True, nullable=False, min_length=1)
    session_types = ListOf(Choice(SESSION_TYPES), required=True, nullable=False, min_length=1)


# --------------------------------------------------------------------------- outcomes


@dataclass
class _Outcome:
    """A parsed part: FastAPI's own errors, and ours that count only when FastAPI found none."""

    value: Any
    errors: list[dict] = field(default_factory=list)
    extension: list[dict] = field(default_factory=list)


def _finish(*parts: _Outcome) -> None:
    errors = [e for p in parts for e in p.errors]
    if errors:
        raise RequestInvalid(errors)
    extension = [e for p in parts for e in p.extension]
    if extension:
        values = tuple(p.value for p in parts)
        raise RequestInvalid(extension, parsed=values[0] if len(values) == 1 else values)


def query_args(query_string: bytes) -> MultiDict:
    """Starlette's query parsing (latin-1, then parse_qsl): bad UTF-8 escapes become U+FFFD, where werkzeug's
    `request.args` keeps `%FF` literally and reads raw bytes as UTF-8."""
    return MultiDict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def _query(model: _Model, args: Any, nul_free: tuple[str, ...] = ("user_id",)) -> _Outcome:
    """Last value wins for scalars, getlist for list params; NUL in SQL-bound strings is ours to reject."""
    data = {}
    for name, fld in model.fields.items():
        key = fld.data_key or name
        if key in args:
            values = args.getlist(key)
            data[key] = values if isinstance(fld, ListOf) else values[-1]
    value, errors = model.parse(data, "query")
    out = _Outcome(value, errors)
    for name in nul_free:
        out.extension += _storable(value.get(name), ("query", name), varchar=True)
    return out


def _storable(value: Any, loc: tuple, *, varchar: bool = False) -> list[dict]:
    """Where AgentOS 500s writing or binding a value: NaN/Infinity, lone surrogates, NUL in keys/columns."""
    if isinstance(value, float) and not math.isfinite(value):
        return [error("finite_number", loc, "Input should be a finite number", value)]
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return [error("string_unicode", loc, NOT_UNICODE, value)]
        if varchar and "\x00" in value:
            return [error("string_pattern_mismatch", loc, f"String should match pattern '{NO_NUL}'", value,
                          {"pattern": NO_NUL})]
        return []
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _storable(v, (*loc, i), varchar=varchar)]
    if isinstance(value, dict):
        errors = []
        for k, v in value.items():
            errors += _storable(k, (*loc, k, "[key]"), varchar=True)
            errors += _storable(v, (*loc, k), varchar=varchar)
        return errors
    return []


def path_errors(session_id: str | None) -> list[dict]:
    """NUL in the path's session_id: the one path value AgentOS binds into SQL (run ids are compared in Python)."""
    if session_id is None:
        return []
    return _storable(session_id, ("path", "session_id"), varchar=True)


# What agno removes from every string value it writes into a JSON column (and from a new session name).
_UNSTORED_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
JSON_BODY_FIELDS = ("session_name", "session_state", "metadata", "summary", "runs")


def sanitize_strings(value: Any) -> Any:
    """Strip the characters agno strips from string values (keys are kept, as agno keeps them)."""
    if isinstance(value, str):
        return _UNSTORED_CHARS.sub("", value)
    if isinstance(value, list):
        return [sanitize_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: sanitize_strings(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- body decoding


_ABSENT = object()


def _decode(raw: bytes | None, content_type: str | None) -> Any:
    """FastAPI's body read: empty → absent; JSON media types → json.loads; anything else stays bytes."""
    if not raw:
        return _ABSENT
    if content_type:
        message = email.message.Message()
        message["content-type"] = content_type
        main, sub = message.get_content_maintype(), message.get_content_subtype()
        if main == "application" and (sub == "json" or sub.endswith("+json")):
            try:
                return _loads(raw)
            except json.JSONDecodeError as exc:
                raise RequestInvalid([error("json_invalid", ("body", exc.pos), "JSON decode error", {},
                                            {"error": exc.msg})]) from exc
            except Exception as exc:  # UnicodeDecodeError, RecursionError: FastAPI's generic 400
                raise BodyUnreadable() from exc
    return raw


def _loads(raw: bytes) -> Any:
    """json.loads failing exactly where AgentOS's does: RecursionError at the PARSE_DEPTH-th nested container.

    Only a body with that many brackets can get there; it is decoded on a fresh thread at a calibrated stack
    depth, so the outcome does not depend on how deep the caller's stack happens to be."""
    if raw.count(b"[") + raw.count(b"{") < PARSE_DEPTH:
        return json.loads(raw)
    return _loads_on_thread(raw, _pad())


def _loads_on_thread(raw: bytes | str, frames: int) -> Any:
    """json.loads(raw) on a new thread, `frames` Python frames above the thread's base."""
    outcome: dict[str, Any] = {}

    def decode() -> None:
        try:
            outcome["value"] = _at_depth(frames, json.loads, raw)
        except BaseException as exc:  # handed back to the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=decode, name="agno-session-json")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _at_depth(frames: int, fn: Any, *args: Any) -> Any:
    """fn(*args), called `frames` Python frames deeper than here."""
    return fn(*args) if frames <= 0 else _at_depth(frames - 1, fn, *args)


_PAD: list[int] = []
_PAD_LOCK = threading.Lock()


def _pad() -> int:
    """Frames to add so that PARSE_DEPTH - 1 levels decode on a fresh thread and PARSE_DEPTH do not (measured once)."""
    with _PAD_LOCK:
        if not _PAD:
            def decodes(levels: int) -> bool:
                try:
                    _loads_on_thread("[" * levels + "]" * levels, 0)
                    return True
                except RecursionError:
                    return False

            low, high = 0, sys.getrecursionlimit()  # `low` levels decode, `high` do not
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if decodes(mid) else (low, mid)
            _PAD.append(max(0, low - (PARSE_DEPTH - 1)))
        return _PAD[0]


def _model_body(model: _Model, body: Any, *, required: bool) -> _Outcome:
    if body is _ABSENT:
        if required:
            return _Outcome(None, [error("missing", ("body",), "Field required", None)])
        body = {}
    if not isinstance(body, dict):
        shown = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return _Outcome(None, [error("model_attributes_type", ("body",), NOT_OBJECT, shown)])
    value, errors = model.parse(body, "body")
    return _Outcome(value, errors)


def _columns(value: dict, names: Iterable[str], *, varchar: bool) -> list[dict]:
    return [e for n in names for e in _storable(value.get(n), ("body", n), varchar=varchar)]


def _summary_shape(summary: dict | None, loc: tuple) -> list[dict]:
    """agno's SessionSummary.from_dict: `summary` required, only summary/topics/updated_at, ISO updated_at."""
    if summary is None:
        return []
    errors = [] if "summary" in summary else [error("missing", (*loc, "summary"), "Field required", summary)]
    for key, value in summary.items():
        if key not in ("summary", "topics", "updated_at"):
            errors.append(error("extra_forbidden", (*loc, key), "Extra inputs are not permitted", value))
        elif key == "updated_at" and value:
            if not isinstance(value, str):
                errors.append(error("string_type", (*loc, key), STRING, value))
                continue
            try:
                datetime.fromisoformat(value)
            except ValueError as exc:
                msg = f"Input should be a valid datetime, {exc}"
                errors.append(error("datetime_parsing", (*loc, key), msg, value, {"error": str(exc)}))
    return errors


def _runs_shape(runs: list | None) -> list[dict]:
    """Each preloaded run needs a string run_id: it is the runs table's primary key."""
    errors = []
    for i, run in enumerate(runs or ()):
        loc = ("body", "runs", i, "run_id")
        if "run_id" not in run:
            errors.append(error("missing", loc, "Field required", run))
        elif not isinstance(run["run_id"], str):
            errors.append(error("string_type", loc, STRING, run["run_id"]))
        for key in ("run_index", "created_at"):  # bigint columns, filled from these when they are integers
            value = run.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and not -BIGINT_MAX - 1 <= value <= BIGINT_MAX:
                bound_loc = ("body", "runs", i, key)
                errors.append(_le(bound_loc, value, BIGINT_MAX) if value > 0 else error(
                    "greater_than_equal", bound_loc, f"Input should be greater than or equal to {-BIGINT_MAX - 1}",
                    value, {"ge": -BIGINT_MAX - 1}))
    return errors


def _nesting(value: Any, limit: int) -> int:
    """Levels of nesting as pydantic-core counts them (a scalar is one level), counted only up to limit + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def depth_errors(value: Any, loc: tuple, limit: int) -> list[dict]:
    """Our 422 for a value nested deeper than AgentOS can put in its answer (it writes the row, then 500s)."""
    if value is None or _nesting(value, limit) <= limit:
        return []
    return [error("too_deep", loc, f"Input should be nested at most {limit} levels deep", value,
                  {"max_depth": limit})]


def state_depth(session_state: Any, kind: str, loc: tuple = ("body", "session_state")) -> list[dict]:
    """session_state sits one level deeper in a workflow's answer (inside `session_data`)."""
    return depth_errors(session_state, loc, ANSWER_DEPTH - (2 if kind == "workflow" else 1))


def _stored_depth(value: dict, kind: str | None) -> list[dict]:
    """Depth errors of the JSON fields create and PATCH store and answer with (`kind` None: not known yet)."""
    errors = state_depth(value.get("session_state"), kind or "agent")
    for name in ("metadata", "summary"):
        errors += depth_errors(value.get(name), ("body", name), ANSWER_DEPTH - 1)
    for i, run in enumerate(value.get("runs") or ()):
        errors += depth_errors(run, ("body", "runs", i), ANSWER_DEPTH - 1)
    return errors


@contextmanager
def _deep_json() -> Iterator[None]:
    """JSON that json.loads just managed to nest can still exhaust the stack when walked: FastAPI's 400."""
    try:
        yield
    except RecursionError as exc:
        raise BodyUnreadable() from exc


def _rename_body(body: Any) -> _Outcome:
    name = body.get("session_name", _ABSENT) if isinstance(body, dict) else _ABSENT
    if name is _ABSENT:
        return _Outcome(None, [error("missing", ("body", "session_name"), "Field required", None)])
    if not isinstance(name, str):
        return _Outcome(None, [error("string_type", ("body", "session_name"), STRING, name)])
    return _Outcome({"session_name": sanitize_strings(name)}, extension=_storable(name, ("body", "session_name")))


def _patch_body(body: Any) -> _Outcome:
    out = _model_body(PatchBody(), body, required=True)
    if not out.errors:
        with _deep_json():
            out.extension = _stored_depth(out.value, None) or _columns(out.value, PatchBody().fields, varchar=False) \
                or _summary_shape(out.value["summary"], ("body", "summary"))
            out.value = sanitize_strings(out.value)
    return out


def _create_body(body: Any, session_type: str) -> _Outcome:
    out = _model_body(CreateBody(), body, required=False)
    if out.errors:
        return out
    extra, extra_errors = CreateExtension().parse(body if isinstance(body, dict) else {}, "body")
    component = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}[session_type]
    value = {**out.value, **extra}
    with _deep_json():
        out.extension = (
            extra_errors
            or _stored_depth(value, session_type)
            or _columns(value, ("session_id", "user_id", component), varchar=True)
            + _columns(value, ("session_name", "session_state", "metadata", "runs", "summary"), varchar=False)
            or _runs_shape(extra["runs"]) + _summary_shape(extra["summary"], ("body", "summary")))
        out.value = {k: sanitize_strings(v) if k in JSON_BODY_FIELDS else v for k, v in value.items()}
    return out


def _bulk_delete_body(body: Any) -> _Outcome:
    out = _model_body(BulkDeleteBody(), body, required=True)
    if not out.errors:
        out.extension = _columns(out.value, ("session_ids",), varchar=True)
    return out


# ---------------------------------------------------------------------- public: one parser per route part


def _list_query(args: Any) -> _Outcome:
    out = _query(ListQuery(), args, ("component_id", "user_id", "session_name"))
    limit, page = out.value["limit"], out.value["page"]
    if "limit" in args and isinstance(limit, int) and limit > BIGINT_MAX:
        out.extension.append(_le(("query", "limit"), args.getlist("limit")[-1], BIGINT_MAX))
    if "page" in args and isinstance(page, int):
        # AgentOS: page=0 → ValueError 500; a page past bigint → DataError 500. A page whose offset
        # (page-1)*limit passes bigint is simply past the data: the store answers it with an empty page.
        raw = args.getlist("page")[-1]
        if page == 0:
            out.extension.append(error("greater_than_equal", ("query", "page"),
                                       "Input should be greater than or equal to 1", raw, {"ge": 1}))
        elif page > BIGINT_MAX:
            out.extension.append(_le(("query", "page"), raw, BIGINT_MAX))
    return out


def _le(loc: tuple, raw: Any, le: int) -> dict:
    return error("less_than_equal", loc, f"Input should be less than or equal to {le}", raw, {"le": le})


def _parsed(out: _Outcome) -> Any:
    _finish(out)
    return out.value


def list_query(args: Any) -> dict:
    """GET /sessions: filters, paging and sorting (`type` comes back as `session_type`, as agno names it)."""
    return _parsed(_list_query(args))


def detail_query(args: Any) -> dict:
    """GET /sessions/{id} (and rename, PATCH, single run): type, user_id, db_id, table."""
    return _parsed(_query(DetailQuery(), args))


single_run_query = rename_query = patch_query = detail_query


def runs_query(args: Any) -> dict:
    """GET /sessions/{id}/runs and /run-previews; `status` is the raw repeated list (None when absent)."""
    return _parsed(_query(RunsQuery(), args))


def create_query(args: Any) -> dict:
    """POST /sessions: type (default agent), db_id."""
    return _parsed(_query(CreateQuery(), args, ()))


def delete_query(args: Any) -> dict:
    """DELETE /sessions/{id} and DELETE /sessions: user_id, db_id, table, delete_media."""
    return _parsed(_query(DeleteQuery(), args))


bulk_delete_query = delete_query


def rename_body(raw: bytes | None, content_type: str | None) -> dict:
    """POST /sessions/{id}/rename: the embedded {"session_name": str} (NUL stripped, as agno writes it)."""
    return _parsed(_rename_body(_decode(raw, content_type)))


def patch_body(raw: bytes | None, content_type: str | None) -> dict:
    """PATCH /sessions/{id}: session_name, session_state, metadata, summary (None means no-op, as in agno)."""
    return _parsed(_patch_body(_decode(raw, content_type)))


def create_body(raw: bytes | None, content_type: str | None, session_type: str = "agent") -> dict:
    """POST /sessions: AgentOS's eight optional fields plus our `runs` and `summary` (None = not given)."""
    return _parsed(_create_body(_decode(raw, content_type), session_type))


def bulk_delete_body(raw: bytes | None, content_type: str | None) -> dict:
    """DELETE /sessions: session_ids (≥1 str) and session_types (≥1 of agent|team|workflow)."""
    return _parsed(_bulk_delete_body(_decode(raw, content_type)))


# ---------------------------------------------------------------------- public: whole requests with a body
# FastAPI reads the body before validating anything: json_invalid (422) and the 400 hide query errors.


def rename_request(args: Any, raw: bytes | None, content_type: str | None) -> tuple[dict, dict]:
    """Query and body of POST /sessions/{id}/rename, errors in FastAPI's order."""
    body = _rename_body(_decode(raw, content_type))
    query = _query(DetailQuery(), args)
    _finish(query, body)
    return query.value, body.value


def patch_request(args: Any, raw: bytes | None, content_type: str | None) -> tuple[dict, dict]:
    """Query and body of PATCH /sessions/{id}, errors in FastAPI's order."""
    body = _patch_body(_decode(raw, content_type))
    query = _query(DetailQuery(), args)
    _finish(query, body)
    return query.value, body.value


def create_request(args: Any, raw: bytes | None, content_type: str | None) -> tuple[dict, dict]:
    """Query and body of POST /sessions, errors in FastAPI's order."""
    decoded = _decode(raw, content_type)
    query = _query(CreateQuery(), args, ())
    body = _create_body(decoded, query.value["session_type"] or "agent")
    _finish(query, body)
    return query.value, body.value


def bulk_delete_request(args: Any, raw: bytes | None, content_type: str | None) -> tuple[dict, dict]:
    """Query and body of DELETE /sessions, errors in FastAPI's order."""
    body = _bulk_delete_body(_decode(raw, content_type))
    query = _query(DeleteQuery(), args)
    _finish(query, body)
    return query.value, body.value


class StateQuery(_Model):
    user_id = Text()
    db_id = Text()
    table = Text()


class _AnyObject(_Model):
    """The state-merge body is a free-form JSON object: only its being an object is FastAPI-checked."""


def _state_patch_body(body: Any) -> _Outcome:
    out = _model_body(_AnyObject(), body, required=True)
    if not out.errors:
        with _deep_json():
            out.extension = state_depth(body, "agent", ("body",)) or _storable(body, ("body",))
            out.value = sanitize_strings(body)
    return out


def state_merge_request(args: Any, raw: bytes | None, content_type: str | None) -> tuple[dict, dict]:
    """Query and body of PATCH /sessions/{id}/state (extension), errors in FastAPI's order (body decoded first)."""
    body = _state_patch_body(_decode(raw, content_type))
    query = _query(StateQuery(), args)
    _finish(query, body)
    return query.value, body.value
