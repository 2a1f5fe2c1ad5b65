"""Request bodies read as FastAPI reads them: media type, JSON decoding, and its exact nesting limit."""

from __future__ import annotations

import email.message
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from service.rules.validation.errors import NOT_OBJECT, BodyUnreadable, RequestInvalid, error
from service.rules.validation.fields import Model
from service.rules.validation.outcome import Outcome

# AgentOS's JSON decoder runs out of recursion at the 960th nested array/object: FastAPI's 400.
PARSE_DEPTH = 960
ABSENT = object()


def decode(raw: bytes | None, content_type: str | None) -> Any:
    """FastAPI's body read: empty → absent; JSON media types → json.loads; anything else stays bytes."""
    if not raw:
        return ABSENT
    if content_type:
        main, _, sub = media_type(content_type).partition("/")
        if main == "application" and (sub == "json" or sub.endswith("+json")):
            try:
                return _loads(raw)
            except json.JSONDecodeError as exc:
                raise RequestInvalid([error("json_invalid", ("body", exc.pos), "JSON decode error", {},
                                            {"error": exc.msg})]) from exc
            except Exception as exc:  # UnicodeDecodeError, RecursionError: FastAPI's generic 400
                raise BodyUnreadable() from exc
    return raw


def media_type(content_type: str) -> str:
    """The `type/subtype` of a Content-Type header, lower-cased and without parameters, as FastAPI reads it."""
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_type()


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


def model_body(model: Model, body: Any, *, required: bool) -> Outcome:
    if body is ABSENT:
        if required:
            return Outcome(None, [error("missing", ("body",), "Field required", None)])
        body = {}
    if not isinstance(body, dict):
        shown = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return Outcome(None, [error("model_attributes_type", ("body",), NOT_OBJECT, shown)])
    value, errors = model.parse(body, "body")
    return Outcome(value, errors)



@contextmanager
def deep_json() -> Iterator[None]:
    """JSON that json.loads just managed to nest can still exhaust the stack when walked: FastAPI's 400."""
    try:
        yield
    except RecursionError as exc:
        raise BodyUnreadable() from exc

