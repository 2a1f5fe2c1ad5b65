"""How values are bound into JSONB columns: one encoder for every writer (API, workflow, memory)."""

from __future__ import annotations

from typing import Any

from psycopg2.extras import Json

from service.core.json_codec import JSON_NULL, dumps


def jsonb(value: Any) -> Json:
    """Bind a value as JSONB, where Python None becomes JSON null as agno's writes do."""
    return Json(value, dumps=lambda v: dumps(v).decode("utf-8"))


def json_column(value: Any) -> Json | None:
    """A JSON column's bind value: SQL NULL for None, JSON null for JSON_NULL, JSONB otherwise."""
    if value is None:
        return None
    return jsonb(None if value is JSON_NULL else value)
