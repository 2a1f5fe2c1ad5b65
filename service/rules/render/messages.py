"""chat_history: stored run messages re-serialised the way agno's Message.to_dict() rewrites them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from service.rules.render.media import reserialise_media
from service.rules.render.values import lax_bool, lax_int

_LEADING_KEYS = (
    "id",
    "content",
    "reasoning_content",
    "from_history",
    "compressed_content",
    "stop_after_tool_call",
    "role",
    "name",
    "tool_call_id",
    "tool_name",
    "tool_args",
    "tool_call_error",
    "tool_calls",
    "redacted_reasoning_content",
    "provider_data",
    "checkpoint_status",
    "checkpoint_created_at",
)
_MEDIA_KEYS = (("images", "image"), ("audio", "audio"), ("videos", "video"), ("files", "file"))
_METRIC_KEYS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "audio_total_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost",
    "duration",
    "time_to_first_token",
    "provider_metrics",
)
_SKIPPED_ROLES = ("system", "tool")
PREVIEW_CHARS = 280  # what AgentOS's run previews keep of a text


def _metrics(stored: Any) -> dict:
    """MessageMetrics.to_dict(): known keys in dataclass order, None/int-zero/empty-dict dropped."""
    if not isinstance(stored, dict):
        return {}
    out = {}
    for key in _METRIC_KEYS:
        value = stored.get(key)
        zero = isinstance(value, int) and value == 0  # bool is int: False goes too; 0.0 stays
        if value is None or zero or (isinstance(value, dict) and not value):
            continue
        out[key] = value
    return out


def message_to_dict(message: dict, now: int) -> dict:
    """One stored message as Message.from_dict(...).to_dict() emits it (a fresh id and `now` when missing)."""
    fields = {key: message.get(key) for key in _LEADING_KEYS}
    if fields["id"] is None:
        fields["id"] = str(uuid.uuid4())
    fields["from_history"] = lax_bool(message.get("from_history", False))
    fields["stop_after_tool_call"] = lax_bool(message.get("stop_after_tool_call", False))
    out = {k: v for k, v in fields.items() if v is not None and not (isinstance(v, (list, dict)) and not v)}
    for key, kind in _MEDIA_KEYS:
        if message.get(key):
            out[key] = [reserialise_media(kind, item) for item in message[key]]
    if message.get("audio_output"):
        out["audio_output"] = reserialise_media("audio", message["audio_output"])
    references = message.get("references")
    if isinstance(references, dict):
        stamp = references.get("time")
        stamp = float(stamp) if isinstance(stamp, int) and not isinstance(stamp, bool) else stamp
        out["references"] = {
            "query": references.get("query"),
            "references": references.get("references"),
            "time": stamp,
        }
    metrics = _metrics(message.get("metrics"))
    if metrics:
        out["metrics"] = metrics
    created_at = message.get("created_at")
    out["created_at"] = now if created_at is None else lax_int(created_at)
    return out


def content_text(message: dict) -> str:
    """agno's text of a message (Message.get_content_string): a string as is; of a list, the first part's `text`
    when it is an object holding one, else the list as JSON; anything else, nothing."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        if not content:
            return ""
        first = content[0]
        if isinstance(first, dict) and "text" in first:
            return first.get("text", "")
        return json.dumps(content, ensure_ascii=False)
    return ""


def message_preview(message: dict, run_created_at: Any) -> dict:
    """A message as a list row shows it: its stored id, who said it, when (its own integral created_at, else its
    run's, as the search dates it, so the answer is the same on every read), and the start of its text, cut as run
    previews cut theirs."""
    text = content_text(message)
    created_at = message.get("created_at")
    integral = isinstance(created_at, int) and not isinstance(created_at, bool)
    if isinstance(created_at, float) and created_at.is_integer():
        created_at, integral = int(created_at), True
    return {
        "id": message.get("id"),
        "role": message.get("role"),
        "content": text[:PREVIEW_CHARS] if isinstance(text, str) else text,
        "created_at": created_at if integral else run_created_at,
    }


def history_messages(run: Any) -> list[tuple[int, dict]]:
    """(index in run_data.messages, stored message) of one run's messages that chat_history shows: user and
    assistant messages of a top-level agent or team run, none carried over from history."""
    if not isinstance(run, dict) or ("agent_id" not in run and "team_id" not in run):
        return []
    if run.get("parent_run_id") is not None or not isinstance(run.get("messages"), list):
        return []
    return [
        (index, message) for index, message in enumerate(run["messages"])
        if isinstance(message, dict) and not lax_bool(message.get("from_history", False))
        and message.get("role") not in _SKIPPED_ROLES
    ]


def chat_history(runs: list, now: int) -> list[dict]:
    """User/assistant messages of top-level agent and team runs, as get_chat_history() yields them."""
    return [message_to_dict(message, now) for run in runs for _, message in history_messages(run)]
