"""GET /sessions/-/capabilities: every extension beyond AgentOS with its version, so a client can tell what this
service adds (AgentOS ignores unknown parameters silently)."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from service.api.responses import json_response
from service.rules.extensions import capabilities

bp = Blueprint("capabilities", __name__)


@bp.get("/sessions/-/capabilities")
def get_capabilities() -> Response:
    """Behind the list's authentication (the key; a JWT with sessions:read): the middleware and the JWT gate
    treat it as any GET under /sessions."""
    return json_response(capabilities())
