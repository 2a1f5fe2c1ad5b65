"""The list-filters parameters as the list's parser reads them (AgentOS's own errors first, ours deferred until the
database is resolved), the names the applied header gets, and the containment documents the metadata filters
bind."""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from service.rules.validation import parsers
from service.rules.validation.errors import RequestInvalid
from service.rules.validation.list_filters import MAX_METADATA_FILTERS, applied_filters
from service.storage.list_conditions import metadata_params


def parse(*pairs: tuple[str, str]):
    return parsers.list_query(MultiDict(list(pairs)))


def test_absent_filters_leave_the_list_as_agentos_reads_it() -> None:
    parsed = parse(("limit", "5"), ("metadata", "x"), ("metadata_tier", "y"))  # not the family: ignored
    assert parsed.query["metadata"] is None and not parsed.deferred
    assert all(parsed.query[name] is None for name in ("created_after", "created_before", "updated_after",
                                                       "updated_before"))
    assert applied_filters(parsed.query) == []


def test_metadata_pairs_are_sorted_by_key_and_an_identical_repeat_counts_once() -> None:
    parsed = parse(("metadata.z", "1"), ("metadata.a.b", "x y"), ("metadata.z", "1"), ("metadata.e", ""))
    assert parsed.query["metadata"] == [["a.b", "x y"], ["e", ""], ["z", "1"]]  # a dotted key is one key
    assert not parsed.deferred
    assert applied_filters(parsed.query) == ["metadata.*"]


def test_dates_are_integers_in_bigint_named_in_a_fixed_order() -> None:
    parsed = parse(("updated_before", " 20 "), ("created_after", "-5"), ("created_after", "10"))
    assert (parsed.query["created_after"], parsed.query["updated_before"]) == (10, 20)  # last one wins, trimmed
    assert applied_filters(parsed.query) == ["created_after", "updated_before"]
    edge = parse(("created_before", "9223372036854775807"), ("updated_after", "-9223372036854775808"))
    assert not edge.deferred


@pytest.mark.parametrize(("pairs", "expected"), [
    ([("metadata.", "x")], [("string_too_short", ["query", "metadata."])]),
    ([("metadata.k", "a"), ("metadata.k", "b"), ("metadata.k", "a")], [("metadata_conflict", ["query", "metadata.k"])]),
    ([("created_after", "1.5")], [("int_parsing", ["query", "created_after"])]),
    ([("created_before", "soon")], [("int_parsing", ["query", "created_before"])]),
    ([("updated_after", "9223372036854775808")], [("less_than_equal", ["query", "updated_after"])]),
    ([("metadata.k", "a\x00")], [("string_pattern_mismatch", ["query", "metadata.k"])]),
    ([(f"metadata.k{i}", "v") for i in range(MAX_METADATA_FILTERS + 1)], [("too_long", ["query", "metadata.*"])]),
])
def test_bad_filters_are_deferred_422s_in_the_validation_shape(pairs, expected) -> None:
    parsed = parse(*pairs)
    assert [(e["type"], e["loc"]) for e in parsed.deferred] == expected
    assert all(list(e)[:4] == ["type", "loc", "msg", "input"] for e in parsed.deferred)
    with pytest.raises(RequestInvalid):
        parsed.checked()


def test_conflicting_values_are_named_in_the_error() -> None:
    (error,) = parse(("metadata.k", "a"), ("metadata.k", "b")).deferred
    assert error["input"] == ["a", "b"] and "one value" in error["msg"]


def test_agentos_errors_come_first_and_alone() -> None:
    with pytest.raises(RequestInvalid) as raised:
        parse(("type", "robot"), ("metadata.", "x"), ("created_after", "x"))
    assert [e["loc"] for e in raised.value.errors] == [["query", "type"]]


def _docs(value: str) -> list[str]:
    """The containment documents bound for metadata.k=value, as text."""
    docs = metadata_params([["k", value]])["metadata_docs_0"]
    return [doc if isinstance(doc, str) else doc.dumps(doc.adapted) for doc in docs]


@pytest.mark.parametrize(("value", "spelled"), [
    ("gold", None),
    ('"gold"', None),  # spells a string: only a stored string with the quotes has this text
    ("null", None),  # a stored null has no text
    ("5", '{"k": 5}'),
    ("12345678901234567890.123456789", '{"k": 12345678901234567890.123456789}'),  # PostgreSQL reads it exactly
    ("true", '{"k": true}'),
    ('{"a": [1]}', '{"k": {"a": [1]}}'),
    ("NaN", None),
    ("1e400", None),  # jsonb writes no exponent: no stored number has this text (1e-99999 would not even parse)
    ('[1, {"a": 2E1}]', None),
    ("1" * 1001, None),
    ("-0", '{"k": -0}'),  # candidates only: the text check drops the stored 0, whose text is "0"
    ('["\\u0000"]', None),  # jsonb refuses NUL and lone surrogates, so no stored value spells these
    ('{"a": "\\ud800"}', None),
    ("[[[[", None),
])
def test_each_filter_binds_the_string_and_the_json_its_text_spells(value, spelled) -> None:
    params = metadata_params([["k", value]])
    assert (params["metadata_key_0"], params["metadata_value_0"]) == ("k", value)
    docs = _docs(value)
    assert json.loads(docs[0]) == {"k": value}  # the stored string equal to the text
    assert docs[1:] == ([] if spelled is None else [spelled])
