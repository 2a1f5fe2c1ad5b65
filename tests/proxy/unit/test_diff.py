"""The structural diff: every kind, located by its JSON pointer."""

from __future__ import annotations

from proxy import pointers
from proxy.answers import Answer, compare
from proxy.diff import diff
from proxy.rules import RouteNoise


def kinds(a, b, noise=None) -> list[tuple[str, str]]:
    return [(d.pointer, d.kind) for d in diff(a, b, noise)]


def test_equal_documents_have_no_difference() -> None:
    assert kinds({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}) == []


def test_each_kind_is_named_at_its_pointer() -> None:
    assert kinds({"a": 1}, {"a": 2}) == [("/a", "value")]
    assert kinds({"a": 1}, {"a": "1"}) == [("/a", "type")]
    assert kinds({"a": 1}, {"a": 1.0}) == [("/a", "type")]
    assert kinds({"a": 1, "b": 2}, {"a": 1}) == [("/b", "missing")]
    assert kinds({"a": 1}, {"a": 1, "c": 3}) == [("/c", "extra")]
    assert kinds({"a": 1, "b": 2}, {"b": 2, "a": 1}) == [("", "order")]
    assert kinds({"d": [1, 2]}, {"d": [2, 1]}) == [("/d", "order")]
    assert kinds({"d": [1, 2]}, {"d": [1, 2, 3]}) == [("/d", "length")]
    assert kinds({"d": [{"x": 1}]}, {"d": [{"x": 2}]}) == [("/d/0/x", "value")]


def test_pointer_tokens_are_escaped() -> None:
    assert kinds({"a/b": {"c~d": 1}}, {"a/b": {"c~d": 2}}) == [("/a~1b/c~0d", "value")]


def test_wildcards_match_one_token_or_any_depth() -> None:
    one, deep = pointers.compile_pattern("/data/*/name"), pointers.compile_pattern("/**/created_at")
    assert one.match("/data/3/name") and not one.match("/data/3/x/name")
    assert deep.match("/created_at") and deep.match("/data/0/runs/9/created_at") and not deep.match("/created")
    assert pointers.generalise("/data/12/runs/0") == "/data/*/runs/*"


def test_noise_rules_forgive_what_they_name_only() -> None:
    noise = RouteNoise(ignore=[pointers.compile_pattern("/**/secret")],
                       uuids=[pointers.compile_pattern("/id")],
                       sets=[pointers.compile_pattern("/tags")],
                       timestamps=[pointers.compile_pattern("/**/at")], tolerance_seconds=2)
    a = {"id": "5f0c7c0e-1111-4111-8111-111111111111", "x": {"secret": 1}, "tags": ["a", "b"],
         "at": "2025-01-01T00:00:00Z", "n": 1}
    b = {"id": "0e9a2b3c-2222-4222-8222-222222222222", "x": {"secret": 2}, "tags": ["b", "a"],
         "at": "2025-01-01T00:00:01.5Z", "n": 1}
    assert kinds(a, b, noise) == []
    assert kinds({**a, "at": 100}, {**b, "at": 103}, noise) == [("/at", "value")]
    assert kinds({**a, "id": "not-a-uuid"}, b, noise) == [("/id", "value")]


def test_compare_covers_status_headers_and_formatting() -> None:
    a = Answer(200, [("content-type", "application/json")], b'{"a":1}')
    b = Answer(404, [("content-type", "text/plain")], b'{"a": 1}')
    found = compare(a, b, RouteNoise(), ("content-type",))
    assert [(d.part, d.kind) for d in found] == [("status", "value"), ("header:content-type", "value"),
                                                 ("body", "bytes")]
    assert compare(a, Answer(200, [("content-type", "application/json")], b"oops"), RouteNoise(), ()) [0].kind \
        == "bytes"
