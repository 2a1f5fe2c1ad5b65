"""The runs' version (service/storage/versions.py): a multiset of xmins, whatever order the scan returned them in;
that a create's tag equals what a later read computes is tested end to end (tests/integration/test_preconditions.py)."""

from __future__ import annotations

from service.storage.versions import entity_tag, runs_version, tagged


def test_runs_version_is_the_multiset_of_xmins() -> None:
    assert runs_version(["12", "7", "9"]) == runs_version(["7", "9", "12"])  # a table rewrite may reorder the scan
    assert runs_version(["7", "7"]) != runs_version(["7"])  # a deletion from one transaction's runs is a change
    assert runs_version(["7", "8"]) != runs_version(["7", "9"])  # a rewrite brings a new transaction id
    assert runs_version(["1", "23"]) != runs_version(["12", "3"])  # the separator keeps numbers apart
    assert runs_version([]) != runs_version(["7"])


def test_tagged_replaces_the_version_columns() -> None:
    row = tagged({"session_id": "s", "row_version": "5", "run_xmins": ["9", "8"]})
    assert row == {"session_id": "s", "etag": entity_tag("5", runs_version(["8", "9"]))}
    assert tagged(None) is None and tagged({"session_id": "s"}) == {"session_id": "s"}


def test_runs_version_reads_the_xid_array_as_psycopg2_gives_it() -> None:
    assert runs_version("{9,7,12}") == runs_version(["7", "9", "12"])
    assert runs_version("{}") == runs_version(None) == runs_version([])
