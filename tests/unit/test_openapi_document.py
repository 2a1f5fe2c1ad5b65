"""openapi.yaml on its own: a valid OpenAPI 3.1 document whose examples, links, security and error envelopes hold
(served and matched by real answers: tests/integration/test_openapi.py)."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tests.support.openapi_spec import METHODS, SPEC, deref, media_types, operations, schema_errors


def test_spec_is_a_valid_openapi_3_1_document() -> None:
    validate(SPEC)
    assert SPEC["openapi"] == "3.1.0"


def test_guarded_operations_declare_optional_bearer_auth() -> None:
    scheme = SPEC["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, template in operations():
        operation = SPEC["paths"][template][method.lower()]
        if template.startswith("/sessions"):
            assert operation["security"] == [{}, {"bearerAuth": []}], (method, template)
            assert "401" in operation["responses"], (method, template)
        elif template == "/readyz":  # credentials only add details, never a 401
            assert operation["security"] == [{}, {"bearerAuth": []}], (method, template)
            assert "401" not in operation["responses"]
        elif template == "/metrics":  # AGNO_METRICS_TOKEN, not the API's credential
            assert operation["security"] == [{}, {"metricsToken": []}], (method, template)
            assert "401" in operation["responses"]
        else:
            assert operation["security"] == [], (method, template)


def test_create_links_lead_to_the_created_session() -> None:
    links = SPEC["paths"]["/sessions"]["post"]["responses"]["201"]["links"]
    by_id = {op["operationId"] for item in SPEC["paths"].values() for m, op in item.items() if m in METHODS}
    targets = {link["operationId"] for link in links.values()}
    assert {"get_session_by_id", "update_session", "rename_session", "delete_session", "get_session_runs"} <= targets
    assert targets <= by_id
    for link in links.values():
        assert link["parameters"] == {"session_id": "$response.body#/session_id"}


def test_every_example_matches_its_schema() -> None:
    checked = 0
    for ptr, media in media_types(SPEC):
        if "schema" not in media:
            continue
        values = [("example", media["example"])] if "example" in media else []
        values += [(name, ex["value"]) for name, ex in media.get("examples", {}).items()]
        for name, value in values:
            errors = schema_errors(ptr + "/schema", value)
            assert not errors, f"{ptr} example {name}: {errors}"
            checked += 1
    assert checked >= 25


def test_schema_check_rejects_what_the_service_must_not_send() -> None:
    ok = {"session_id": "s", "session_name": "", "session_type": "agent"}
    list_ptr = "/components/schemas/SessionsPage"
    meta = {"page": 1, "limit": 20, "total_pages": 1, "total_count": 1, "search_time_ms": 0.0}
    assert schema_errors(list_ptr, {"data": [ok], "meta": meta}) == []
    assert schema_errors(list_ptr, {"data": [{**ok, "user_id": None}], "meta": meta})  # list omits nulls
    assert schema_errors(list_ptr, {"data": [{**ok, "created_at": "yesterday"}], "meta": meta})
    detail = "/components/schemas/SessionDetailWithNulls"
    assert schema_errors(detail, {"session_id": "s", "session_name": "", "chat_history": []})  # nulls missing
    assert schema_errors("/components/schemas/ValidationErrorResponse", {"detail": [{"type": "missing", "loc": []}]})
    assert schema_errors("/components/schemas/ValidationErrorResponse", {"detail": []})
    assert schema_errors("/components/schemas/Error", {"detail": ["x"]})


@pytest.mark.parametrize("status", ["400", "401", "404", "409", "413", "422", "500", "503", "504"])
def test_error_statuses_use_the_error_envelopes(status: str) -> None:
    for method, template in operations():
        response = SPEC["paths"][template][method.lower()]["responses"].get(status)
        if response is None:
            continue
        documented, ptr = deref(response, "")
        schema = documented["content"]["application/json"]["schema"]
        wanted = {"422": "ValidationErrorResponse"}.get(status, "Error")
        if (template, status) == ("/readyz", "503"):
            assert schema == {"oneOf": [{"$ref": "#/components/schemas/NotReadyResponse"},
                                        {"$ref": "#/components/schemas/NotReadyStatus"}]}
            continue
        assert schema == {"$ref": f"#/components/schemas/{wanted}"}, (method, template, status)
