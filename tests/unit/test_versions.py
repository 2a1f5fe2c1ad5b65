"""The Python mirror of the runs' version (service/storage/versions.py) that a create answers with; that it equals
what PostgreSQL computes is tested end to end (tests/integration/test_preconditions.py)."""

from __future__ import annotations

from service.storage.versions import entity_tag, runs_version, tagged


def test_runs_version_follows_the_read_order_and_is_unambiguous() -> None:
    assert runs_version([("b", "7"), ("a", "7")]) != runs_version([("a", "7"), ("b", "7")])  # a reorder is a change
    assert runs_version([("a", "7")]) != runs_version([("a", "8")])
    assert runs_version([("a 1 b", "7")]) != runs_version([("a", "7"), ("b", "1")])  # lengths keep ids apart


def test_tagged_replaces_the_version_columns() -> None:
    row = tagged({"session_id": "s", "row_version": "5", "runs_version": runs_version([])})
    assert row == {"session_id": "s", "etag": entity_tag("5", runs_version([]))}
    assert tagged(None) is None and tagged({"session_id": "s"}) == {"session_id": "s"}
