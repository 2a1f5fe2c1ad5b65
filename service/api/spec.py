"""The service's own OpenAPI document, served as YAML and as JSON (both open without auth)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint
from werkzeug.wrappers import Response

from service.responses import json_response

bp = Blueprint("spec", __name__)


def _spec_path() -> Path:
    """`openapi.yaml` at the repository root in a checkout, else where a wheel install puts it."""
    checkout = Path(__file__).resolve().parent.parent.parent / "openapi.yaml"
    return checkout if checkout.is_file() else Path(sys.prefix) / "share" / "agno-session" / "openapi.yaml"


SPEC_PATH = _spec_path()


@cache
def spec_text() -> str:
    """The YAML document as shipped; read once per process."""
    return SPEC_PATH.read_text(encoding="utf-8")


@cache
def spec_document() -> dict[str, Any]:
    """The same document parsed; read once per process."""
    return yaml.safe_load(spec_text())


@bp.get("/openapi.yaml")
def openapi_yaml() -> Response:
    return Response(spec_text().encode("utf-8"), content_type="application/yaml")


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return json_response(spec_document())
