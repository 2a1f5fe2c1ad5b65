"""The rules file: the default loads, and every mistake is refused with the file and the place."""

from __future__ import annotations

import pytest

from proxy import rules


def test_default_rules_load_and_apply_per_route() -> None:
    loaded = rules.load()
    assert loaded.compared_headers() == ("content-type", "allow", "vary")
    create = loaded.for_route("POST /sessions")
    assert create.same_uuid_shape("/session_id", "5f0c7c0e-1111-4111-8111-111111111111",
                                  "0e9a2b3c-2222-4222-8222-222222222222")
    assert not loaded.for_route("GET /sessions").same_uuid_shape("/session_id", "5f0c7c0e-1111-4111-8111-111111111111",
                                                                 "0e9a2b3c-2222-4222-8222-222222222222")
    detail = loaded.for_route("GET /sessions/{session_id}")  # AgentOS's per-read id and "now" of id-less messages
    assert detail.same_timestamp("/chat_history/1/created_at", 1796037192, 1796037193)
    assert not detail.same_timestamp("/chat_history/1/created_at", 1796037192, 1796037292)


@pytest.mark.parametrize(("document", "message"), [
    ({"noise": {"ignore": "/a"}}, "$.noise.ignore: '/a' is not of type 'array'"),
    ({"noise": {"timestamps": {"pointers": [], "tolerance_seconds": -1}}},
     "$.noise.timestamps.tolerance_seconds: -1 is less than the minimum of 0"),
    ({"nosie": {}}, "Additional properties are not allowed ('nosie' was unexpected)"),
    ({"routes": {"GET /sesions": {}}}, "unknown route 'GET /sesions'"),
    ({"routes": {"GET /sessions": {"sets": ["data"]}}}, "$.routes['GET /sessions'].sets[0]: pointer pattern 'data'"),
    ({"sampling": {"percent": 150}}, "$.sampling.percent: 150 is greater than the maximum of 100"),
    ({"exclude": ["DELETE /sessions/{id}"]}, "unknown route 'DELETE /sessions/{id}'"),
])
def test_mistakes_are_named(document, message) -> None:
    with pytest.raises(rules.RulesError) as raised:
        rules.parse(document, "my-rules.yaml")
    assert "my-rules.yaml: " in str(raised.value) and message in str(raised.value)


def test_unreadable_files_are_named(tmp_path) -> None:
    broken = tmp_path / "r.yaml"
    broken.write_text("noise: [unclosed\n")
    with pytest.raises(rules.RulesError, match="r.yaml: not valid YAML"):
        rules.load(broken)
    with pytest.raises(rules.RulesError, match="cannot read"):
        rules.load(tmp_path / "missing.yaml")


def test_route_keys_with_and_without_method() -> None:
    loaded = rules.parse({"exclude": ["/sessions/{session_id}/media/{key}"], "routes": {
        "DELETE /sessions": {"ignore": ["/x"]}}})
    assert loaded.excluded("GET /sessions/{session_id}/media/{key}")
    assert loaded.for_route("DELETE /sessions").ignored("/x") and not loaded.for_route("GET /sessions").ignored("/x")
