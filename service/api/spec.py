"""The service's own OpenAPI document, served as YAML and as JSON (both open without auth)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint
from werkzeug.wrappers import Response

from service.api.responses import json_response

bp = Blueprint("spec", __name__)


@cache
def spec_text() -> str:
    """The YAML document shipped inside the package (the top-level `openapi.yaml` in a checkout); read once."""
    return resources.files("service.api").joinpath("openapi.yaml").read_text(encoding="utf-8")


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
