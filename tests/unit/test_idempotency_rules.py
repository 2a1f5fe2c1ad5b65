"""The Idempotency-Key rules (extension `idempotency-keys`): the keys accepted are exactly those openapi.yaml's pattern
describes, and the fingerprint tells requests apart by what they mean, not how their JSON is spelled."""

from __future__ import annotations

import itertools
import re

import pytest

from service.rules.idempotency import caller_scope, fingerprint, parsed_key
from service.rules.validation.errors import RequestInvalid
from tests.support.openapi_spec import SPEC

SCHEMA = SPEC["components"]["parameters"]["idempotency_key"]["schema"]
ALPHABET = [" ", "!", '"', "\\", "a", "~", "\x7f", "\t", "é"]


def documented(value: str) -> bool:
    return SCHEMA["minLength"] <= len(value) <= SCHEMA["maxLength"] and re.search(SCHEMA["pattern"], value) is not None


def accepted(value: str) -> bool:
    try:
        parsed_key(value)
    except RequestInvalid:
        return False
    return True


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4])
def test_the_service_accepts_exactly_the_keys_the_spec_documents(length: int) -> None:
    for chars in itertools.product(ALPHABET, repeat=length):
        value = "".join(chars)
        assert accepted(value) == documented(value), repr(value)


@pytest.mark.parametrize(("value", "ok"), [("k" * 255, True), ("k" * 256, False), ('"' + "k" * 253 + '"', True),
                                           ("a" + " " * 253 + "b", True), ("a" + " " * 254, False)])
def test_the_length_limit_is_the_header_values(value: str, ok: bool) -> None:
    assert accepted(value) == documented(value) == ok


def test_a_quoted_key_is_the_structured_field_strings_content() -> None:
    assert parsed_key('"k-1"') == parsed_key("k-1") == "k-1"
    assert parsed_key(r'"say \"hi\" \\ bye"') == 'say "hi" \\ bye'
    assert parsed_key('"') == '"'  # a lone quote is no string: a bare key


def test_an_invalid_key_says_why_in_fastapis_shape() -> None:
    with pytest.raises(RequestInvalid) as raised:
        parsed_key("x" * 256)
    assert raised.value.errors == [{"type": "string_too_long", "loc": ["header", "idempotency-key"],
                                    "msg": "String should have at most 255 characters", "input": "x" * 256,
                                    "ctx": {"max_length": 255}}]


def test_the_fingerprint_is_the_request_not_its_spelling() -> None:
    same = fingerprint("POST", "/sessions", [("type", "team"), ("db_id", "a")], b'{"a": 1, "b": [1, 2]}')
    assert fingerprint("POST", "/sessions", [("db_id", "a"), ("type", "team")], b'{"b":[1,2],"a":1}') == same
    for other in (fingerprint("DELETE", "/sessions", [("type", "team"), ("db_id", "a")], b'{"a":1,"b":[1,2]}'),
                  fingerprint("POST", "/sessions/x", [("type", "team"), ("db_id", "a")], b'{"a":1,"b":[1,2]}'),
                  fingerprint("POST", "/sessions", [("type", "agent"), ("db_id", "a")], b'{"a":1,"b":[1,2]}'),
                  fingerprint("POST", "/sessions", [("type", "team"), ("db_id", "a")], b'{"a":1,"b":[2,1]}'),
                  fingerprint("POST", "/sessions", [("type", "team"), ("db_id", "a")], b'{"a":1.0,"b":[1,2]}')):
        assert other != same
    assert fingerprint("POST", "/sessions", [], b"not json") != fingerprint("POST", "/sessions", [], b"not  json")


def test_keys_belong_to_the_token_subject_else_the_key_holder_else_anyone() -> None:
    assert caller_scope("alice", True) == "sub:alice"
    assert caller_scope(None, True) == "key"
    assert caller_scope(None, False) == "anonymous"
