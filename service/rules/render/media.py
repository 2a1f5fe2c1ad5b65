"""Stored media dicts re-serialised the way agno's Image/Audio/Video/File round trip rewrites them."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

# Key order of each class's to_dict(), before media_reference/content/metadata.
_HEAD = ("id", "url", "filepath")
_FIELDS = {
    "image": _HEAD + ("format", "mime_type", "detail", "original_prompt", "revised_prompt", "alt_text"),
    "audio": _HEAD
    + ("format", "mime_type", "duration", "sample_rate", "channels", "transcript", "expires_at"),
    "video": _HEAD
    + (
        "format",
        "mime_type",
        "duration",
        "width",
        "height",
        "fps",
        "eta",
        "original_prompt",
        "revised_prompt",
    ),
    "file": _HEAD + ("mime_type", "file_type", "filename", "size", "external", "format", "name"),
}
# Only these survive agno's from_base64 constructors (Message.from_dict passes nothing else on).
_BASE64_KEEPS = {
    "image": ("id", "mime_type", "format"),
    "audio": ("id", "mime_type", "transcript", "expires_at", "sample_rate", "channels"),
    "video": ("id", "mime_type", "format"),
    "file": ("id", "mime_type", "filename", "name", "format"),
}
# Run inputs go through agno.utils.media's reconstruct_* helpers, which pass a few more keys on.
_INPUT_BASE64_EXTRAS = {
    "image": ("detail", "original_prompt", "revised_prompt", "alt_text"),
    "file": ("size", "file_type", "filepath", "url"),
}
# pydantic coerces these typed fields: ints to floats, integral floats to ints.
_FLOATS = frozenset({"duration", "fps"})
_INTS = frozenset({"sample_rate", "channels", "expires_at", "width", "height", "size"})
_REFERENCE_FIELDS = (
    "media_id",
    "storage_key",
    "session_id",
    "storage_backend",
    "bucket",
    "region",
    "url",
    "mime_type",
    "filename",
    "size",
    "content_hash",
    "media_type",
    "metadata",
)


def _decode_base64(text: str) -> bytes:
    """agno decodes leniently and falls back to the raw UTF-8 bytes."""
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        return text.encode("utf-8")


def _content_out(kind: str, raw: bytes, mime_type: Any) -> str | None:
    """Re-encode content like to_dict: base64, except File keeps text/* as plain text."""
    if not raw:
        return None
    if kind == "file" and isinstance(mime_type, str) and mime_type.startswith("text/"):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii")


def typed(key: str, value: Any) -> Any:
    """Apply the int/float coercion pydantic performs on numeric media fields."""
    if isinstance(value, bool):
        return value
    if key in _FLOATS and isinstance(value, int):
        return float(value)
    if key in _INTS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def reserialise_media(kind: str, item: Any, *, run_input: bool = False) -> Any:
    """One stored media dict as agno re-emits it after deserialising (key order, defaults, dropped keys)."""
    if not isinstance(item, dict):
        return item
    reference = item.get("media_reference")
    content = item.get("content")
    if isinstance(content, str) and not isinstance(reference, dict):
        keeps = _BASE64_KEEPS[kind] + (_INPUT_BASE64_EXTRAS.get(kind, ()) if run_input else ())
        data = {key: item.get(key) for key in keeps}
        if kind == "audio":
            data["sample_rate"] = item.get("sample_rate", 24000)
            data["channels"] = item.get("channels", 1)
        if kind == "file" and isinstance(data["mime_type"], str) and data["mime_type"].startswith("text/"):
            raw = content.encode("utf-8")
        else:
            raw = _decode_base64(content)
        if not data["id"] and kind != "file":
            data["id"] = str(uuid.uuid4())
        content_out = _content_out(kind, raw, data["mime_type"])
        metadata = None
    else:
        data = dict(item)
        if kind == "audio":
            data.setdefault("sample_rate", 24000)
            data.setdefault("channels", 1)
        content_out = None  # JSON never holds bytes: url/filepath/reference media carry no content
        metadata = item.get("metadata")
        if run_input and isinstance(reference, dict):
            data["url"] = data.get("url") or reference.get("url")
    if data.get("id") is None:
        data["id"] = str(uuid.uuid4())
    out = {key: typed(key, data.get(key)) for key in _FIELDS[kind]}
    out["filepath"] = str(out["filepath"]) if out["filepath"] else None
    if isinstance(reference, dict):
        out["media_reference"] = {
            k: typed(k, reference[k]) for k in _REFERENCE_FIELDS if reference.get(k) is not None
        }
    elif content_out is not None:
        out["content"] = content_out
    if metadata:
        out["metadata"] = metadata
    return {key: value for key, value in out.items() if value is not None}
