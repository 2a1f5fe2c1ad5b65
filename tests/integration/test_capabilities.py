"""GET /sessions/-/capabilities (extension `capabilities`) behind the list's authentication, and the
`Agno-Session-Applied` rule: the header names the extension parameters that took effect, and only then."""

from __future__ import annotations

import pytest

from service.rules.extensions import EXTENSIONS
from tests.support.jwt_tokens import JWT_ENV, token
from tests.support.metrics import value


def test_capabilities_list_every_extension_with_its_version(client) -> None:
    response = client.get("/sessions/-/capabilities")
    assert response.status_code == 200 and response.content_type == "application/json"
    body = response.get_json()
    assert [e["name"] for e in body["extensions"]] == sorted(e.name for e in EXTENSIONS)
    window = next(e for e in body["extensions"] if e["name"] == "history-window")
    assert window == {"name": "history-window", "version": 2, "summary": window["summary"],
                      "parameters": ["history_limit", "history_before", "history_after", "history_around"],
                      "routes": ["GET /sessions/{session_id}"],
                      "headers": ["Agno-Session-Applied", "Link"]}
    assert "Agno-Session-Applied" not in response.headers


def test_the_route_is_matched_before_a_session_named_dash(client, rows) -> None:
    rows.session("-", "agent", component_id="a", session_data={"session_name": "dash"})
    assert client.get("/sessions/-").get_json()["session_name"] == "dash"
    assert "extensions" in client.get("/sessions/-/capabilities").get_json()
    assert client.delete("/sessions/-/capabilities").status_code == 405


def test_capabilities_need_the_security_key_like_the_list(make_app) -> None:
    client = make_app(OS_SECURITY_KEY="s3cret").test_client()
    for path in ("/sessions", "/sessions/-/capabilities"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.parametrize(("scopes", "status"), [(("sessions:read",), 200), (("sessions:write",), 403),
                                                 (("agent_os:admin",), 200)])
def test_capabilities_need_the_lists_jwt_scope(make_app, scopes, status) -> None:
    client = make_app(**JWT_ENV).test_client()
    headers = token("alice", scopes=scopes)
    assert client.get("/sessions", headers=headers).status_code == status
    assert client.get("/sessions/-/capabilities", headers=headers).status_code == status
    assert client.get("/sessions/-/capabilities").status_code == 401


def test_create_names_the_imported_fields_it_applied_and_nothing_else(client) -> None:
    plain = client.post("/sessions", json={"session_id": "c1"})
    assert plain.status_code == 201 and "Agno-Session-Applied" not in plain.headers
    imported = client.post("/sessions", json={"session_id": "c2", "runs": [{"run_id": "c2-r", "agent_id": "a"}]})
    assert imported.status_code == 201 and imported.headers["Agno-Session-Applied"] == "runs"
    both = client.post("/sessions", json={"session_id": "c3", "runs": [], "summary": {"summary": "s"}})
    assert both.headers["Agno-Session-Applied"] == "runs,summary"


def test_extension_requests_are_counted_by_their_route_template(client, rows) -> None:
    rows.session("m1", "agent", component_id="a")
    client.get("/sessions/-/capabilities")
    client.get("/sessions/m1?history_limit=2")
    client.get("/sessions/m1?history_limit=2&history_before=x.y")
    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "agno_session_http_requests_total", route="/sessions/-/capabilities", method="GET",
                 status="200") == 1
    assert value(text, "agno_session_http_requests_total", route="/sessions/{session_id}", method="GET",
                 status="200") == 1
    assert value(text, "agno_session_http_requests_total", route="/sessions/{session_id}", method="GET",
                 status="400") == 1
