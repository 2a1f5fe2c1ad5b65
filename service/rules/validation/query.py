"""Query strings decoded as Starlette decodes them, then validated against a route's parameter group."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

from service.rules.validation.fields import ListOf, Model
from service.rules.validation.outcome import Outcome
from service.rules.validation.storable import storable_errors


def query_args(query_string: bytes) -> MultiDict:
    """Starlette's query parsing (latin-1, then parse_qsl): bad UTF-8 escapes become U+FFFD, where werkzeug's
    `request.args` keeps `%FF` literally and reads raw bytes as UTF-8."""
    return MultiDict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def validate_query(model: Model, args: Any, nul_free: tuple[str, ...] = ("user_id",)) -> Outcome:
    """Last value wins for scalars, getlist for list params; NUL in SQL-bound strings is ours to reject."""
    data = {}
    for name, fld in model.fields.items():
        key = fld.data_key or name
        if key in args:
            values = args.getlist(key)
            data[key] = values if isinstance(fld, ListOf) else values[-1]
    value, errors = model.parse(data, "query")
    out = Outcome(value, errors)
    for name in nul_free:
        out.deferred += storable_errors(value.get(name), ("query", name), varchar=True)
    return out

