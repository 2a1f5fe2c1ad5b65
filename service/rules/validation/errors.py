"""FastAPI's 422 and 400 as values: the error dicts and the exceptions that carry them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from service.rules.errors import ApiError

STRING = "Input should be a valid string"
NOT_UNICODE = STRING + ", unable to parse raw data as a unicode string"
NOT_OBJECT = "Input should be a valid dictionary or object to extract fields from"
SURROGATE = re.compile("[\ud800-\udfff]")


class RequestInvalid(Exception):
    """FastAPI's 422: `errors` is the `detail` list, each dict keyed type, loc, msg, input, ctx?."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = [_renderable(e) for e in errors]


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


def le_error(loc: tuple, raw: Any, le: int) -> dict:
    """pydantic's less_than_equal error."""
    return error("less_than_equal", loc, f"Input should be less than or equal to {le}", raw, {"le": le})


def _renderable(value: Any) -> Any:
    """What AgentOS cannot render (it 500s) made renderable: NaN/inf → null, lone surrogates → U+FFFD."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_renderable(v) for v in value]
    if isinstance(value, dict):
        return {_renderable(k): _renderable(v) for k, v in value.items()}
    return value
