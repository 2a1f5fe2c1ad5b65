"""Bad input gets a clear 4xx and changes nothing.

Each case was put to the real AgentOS 3.1.10 first: where it answers 2xx/4xx the expected bytes below are its
own; where it answers 500 we answer the 4xx declared in docs/compatibility.md (names in the comments). Every
rejected write is checked to leave both tables exactly as they were.
"""

from __future__ import annotations

import io
import json
import random
import string

import pytest

from service.core.config import ConfigError, load_settings

JSON = "application/json"
PARSE_400 = b'{"detail":"There was an error parsing the body"}'
NUL_PATTERN = "^[^\\x00]*$"


@pytest.fixture
def seeded(rows):
    """An agent session with one run and a workflow session; returns the rows helper."""
    rows.session("s1", "agent", component_id="basic-agent", user_id="u1",
                 session_data={"session_name": "one", "session_state": {"k": 1}})
    rows.run("s1", {"run_id": "r1", "agent_id": "basic-agent", "status": "COMPLETED", "created_at": 1767225600})
    rows.session("wf1", "workflow", component_id="content-workflow", user_id="u1")
    return rows


def unchanged(rows, before) -> None:
    assert rows.snapshot() == before


def nest(levels: int, leaf: str = "") -> str:
    return "[" * levels + leaf + "]" * levels


def nul_path_error(value: str) -> bytes:
    return json.dumps({"detail": [{"type": "string_pattern_mismatch", "loc": ["path", "session_id"],
                                   "msg": f"String should match pattern '{NUL_PATTERN}'", "input": value,
                                   "ctx": {"pattern": NUL_PATTERN}}]}, separators=(",", ":")).encode()


def incompressible(n: int) -> str:
    rnd = random.Random(n)
    return "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(n))


# ------------------------------------------------------------------------------------- invalid UTF-8


@pytest.mark.parametrize("method,path,raw", [
    ("POST", "/sessions", b'{"session_id":"x\xff"}'),
    ("PATCH", "/sessions/s1", b'{"session_name":"x\xff"}'),
    ("POST", "/sessions/s1/rename", b'{"session_name":"x\xff"}'),
    ("DELETE", "/sessions", b'{"session_ids":["s1\xff"],"session_types":["agent"]}'),
    ("POST", "/sessions", b'{"session_id":"x\xe9"}'),  # latin-1 declared in the content type: still UTF-8 only
])
def test_invalid_utf8_json_body_is_agentos_400(client, seeded, method, path, raw) -> None:
    """AgentOS: 400 (this was a 500 `BodyUnreadable` here: the exception had no handler)."""
    before = seeded.snapshot()
    ctype = JSON + ("; charset=latin-1" if raw.endswith(b'\xe9"}') else "")
    response = client.open(path, method=method, data=raw, content_type=ctype)
    assert (response.status_code, response.data, response.content_type) == (400, PARSE_400, JSON)
    unchanged(seeded, before)


def test_invalid_utf8_body_under_text_plain_is_422(client, seeded) -> None:
    """AgentOS: 500 UnicodeDecodeError (`body-unreadable`)."""
    before = seeded.snapshot()
    response = client.post("/sessions", data=b'{"session_id":"x\xff"}', content_type="text/plain")
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["input"] == '{"session_id":"x\ufffd"}'
    unchanged(seeded, before)


@pytest.mark.parametrize("path,status,body", [
    ("/sessions?user_id=%FF", 200,
     b'{"data":[],"meta":{"page":1,"limit":20,"total_pages":0,"total_count":0,"search_time_ms":0.0}}'),
    ("/sessions/s1?user_id=%FF", 404, b'{"detail":"Session with id \'s1\' not found"}'),
    ("/sessions/%FF", 404, "{\"detail\":\"Session with id '\ufffd' not found\"}".encode()),
    ("/sessions/%FF/runs", 404, "{\"detail\":\"Session with ID \ufffd not found\"}".encode()),
    ("/sessions/s1/runs/%FF", 404, "{\"detail\":\"Run with ID \ufffd not found in session s1\"}".encode()),
    ("/sessions?db_id=%FF", 404, "{\"detail\":\"No database found with id '\ufffd'\"}".encode()),
])
def test_invalid_utf8_escapes_in_path_and_query_read_as_agentos(client, seeded, path, status, body) -> None:
    response = client.get(path)
    assert (response.status_code, response.data) == (status, body)


def test_invalid_utf8_escapes_in_writes_change_nothing(client, seeded) -> None:
    before = seeded.snapshot()
    assert client.delete("/sessions/%FF").status_code == 204
    assert client.delete("/sessions/s1?user_id=%FF").status_code == 204
    patched = client.patch("/sessions/%FF", json={"session_name": "x"})
    assert patched.data == "{\"detail\":\"Session with id '\ufffd' not found\"}".encode()
    unchanged(seeded, before)


# ------------------------------------------------------------------------------------- NUL bytes


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/sessions/a%00b", None),
    ("GET", "/sessions/a%00b/runs", None),
    ("GET", "/sessions/a%00b/run-previews", None),
    ("GET", "/sessions/a%00b/runs/r1", None),
    ("DELETE", "/sessions/a%00b", None),
    ("PATCH", "/sessions/a%00b", {"session_name": "x"}),
    ("POST", "/sessions/a%00b/rename", {"session_name": "x"}),
])
def test_nul_in_path_session_id_is_422(client, seeded, method, path, body) -> None:
    """AgentOS: 500 DataError (`nul-in-identifiers`); here a 500 ValueError before."""
    before = seeded.snapshot()
    response = client.open(path, method=method, json=body)
    assert (response.status_code, response.data) == (422, nul_path_error("a\x00b"))
    unchanged(seeded, before)


def test_nul_in_path_comes_after_db_resolution_and_fastapi_errors(client, seeded) -> None:
    assert client.get("/sessions/a%00b?db_id=nope").data == b'{"detail":"No database found with id \'nope\'"}'
    bad_body = client.patch("/sessions/a%00b", json={"session_name": 5})
    assert bad_body.data == (b'{"detail":[{"type":"string_type","loc":["body","session_name"],'
                             b'"msg":"Input should be a valid string","input":5}]}')
    both = client.get("/sessions/a%00b?user_id=u%00").get_json()["detail"]
    assert [e["loc"] for e in both] == [["path", "session_id"], ["query", "user_id"]]


@pytest.mark.parametrize("path,body", [
    ("/sessions/s1/runs/r%00x", b'{"detail":"Run with ID r\\u0000x not found in session s1"}'),
    ("/sessions/wf1/runs/r%00x", b'{"detail":"Session with ID wf1 has no runs"}'),
    ("/sessions/nope/runs/r%00x", b'{"detail":"Session with ID nope not found"}'),
])
def test_nul_in_run_id_is_agentos_404(client, seeded, path, body) -> None:
    """AgentOS compares run ids in Python: a NUL run id is simply not found (here a 500 ValueError before)."""
    response = client.get(path)
    assert (response.status_code, response.data) == (404, body)


@pytest.mark.parametrize("method,path,body,loc", [
    ("POST", "/sessions", {"session_id": "a\x00b"}, ["body", "session_id"]),
    ("POST", "/sessions", {"session_id": "n", "user_id": "u\x00"}, ["body", "user_id"]),
    ("DELETE", "/sessions", {"session_ids": ["s1\x00"], "session_types": ["agent"]}, ["body", "session_ids", 0]),
    ("PATCH", "/sessions/s1", {"session_state": {"a\x00b": 1}}, ["body", "session_state", "a\x00b", "[key]"]),
    ("GET", "/sessions/s1?user_id=u1%00", None, ["query", "user_id"]),
])
def test_nul_in_bound_values_is_422(client, seeded, method, path, body, loc) -> None:
    """AgentOS: 500 DataError (`nul-in-identifiers`)."""
    before = seeded.snapshot()
    response = client.open(path, method=method, json=body)
    assert response.status_code == 422
    assert [e["loc"] for e in response.get_json()["detail"]] == [loc]
    unchanged(seeded, before)


def test_nul_in_json_string_values_is_stripped_as_agno_does(client, seeded) -> None:
    response = client.post("/sessions", json={"session_id": "n1", "session_name": "a\x00b",
                                              "session_state": {"k": "x\x00y"}})
    assert response.status_code == 201
    assert seeded.session_row("n1")["session_data"] == {"session_name": "ab", "session_state": {"k": "xy"}}


@pytest.mark.parametrize("path,status,detail", [
    ("/sessions?type=agent%00", 422, "enum"),
    ("/sessions?db_id=a%00", 404, "No database found with id 'a\x00'"),
    ("/sessions?table=a%00", 400, "The db_id query parameter is required when passing a table"),
])
def test_nul_in_unbound_query_values_is_agentos_answer(client, seeded, path, status, detail) -> None:
    response = client.get(path)
    got = response.get_json()["detail"]
    assert response.status_code == status
    assert (got[0]["type"] if isinstance(got, list) else got) == detail


# ------------------------------------------------------------------------------------- deep nesting


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/sessions", '{"session_state":{"a":' + nest(10000) + "}}"),
    ("PATCH", "/sessions/s1", '{"session_state":{"a":' + nest(10000) + "}}"),
    ("POST", "/sessions/s1/rename", '{"session_name":"x","z":' + '{"a":' * 10000 + "1" + "}" * 10000 + "}"),
    ("DELETE", "/sessions", '{"session_ids":["s1"],"session_types":["agent"],"z":' + nest(10000) + "}"),
    ("POST", "/sessions", '{"session_id":"p","zz":' + nest(959) + "}"),  # 960 containers: AgentOS's limit
    ("PATCH", "/sessions/s1", nest(960, "x")),  # too deep before it is invalid
])
def test_json_nested_960_levels_is_agentos_400(client, seeded, method, path, body) -> None:
    before = seeded.snapshot()
    response = client.open(path, method=method, data=body, content_type=JSON)
    assert (response.status_code, response.data) == (400, PARSE_400)
    unchanged(seeded, before)


def test_json_nested_959_levels_still_decodes(client, seeded) -> None:
    before = seeded.snapshot()
    invalid = client.patch("/sessions/s1", data=nest(959, "x"), content_type=JSON)
    assert invalid.get_json()["detail"][0]["type"] == "json_invalid"
    created = client.post("/sessions", data='{"session_id":"p","zz":' + nest(958) + "}", content_type=JSON)
    assert created.status_code == 201  # unknown fields are ignored, however deep
    seeded.execute("DELETE FROM ai.agno_sessions WHERE session_id = 'p'")
    unchanged(seeded, before)


def test_deep_wrong_type_is_echoed_in_the_422(client, seeded) -> None:
    """AgentOS renders this 422 up to ~950 levels and 500s (RecursionError) just beyond (`deep-json`)."""
    before = seeded.snapshot()
    for levels in (900, 957):
        response = client.patch("/sessions/s1", data='{"session_name":' + nest(levels) + "}", content_type=JSON)
        detail = response.get_json()["detail"]
        assert response.status_code == 422 and detail[0]["type"] == "string_type"
        assert response.data.count(b"[") == levels + 2  # the detail list, the loc list, the input
    unchanged(seeded, before)


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/sessions", {"session_id": "d", "session_state": {"a": json.loads(nest(253))}}),
    ("POST", "/sessions?type=team", {"session_id": "d", "session_state": {"a": json.loads(nest(252, "1"))}}),
    ("POST", "/sessions?type=workflow", {"session_id": "d", "metadata": {"a": json.loads(nest(253))}}),
    ("PATCH", "/sessions/s1", {"session_state": {"a": json.loads(nest(253))},
                               "metadata": {"a": json.loads(nest(253))}}),
    ("PATCH", "/sessions/s1", {"summary": {"summary": "s", "topics": json.loads(nest(253))}}),
    ("PATCH", "/sessions/wf1", {"session_state": {"a": json.loads(nest(252))}}),
])
def test_nesting_agentos_can_answer_is_accepted(client, seeded, method, path, body) -> None:
    """Up to 254 levels per value (255 in the answer): stored and answered, past orjson's own limit."""
    response = client.open(path, method=method, json=body)
    assert response.status_code in (200, 201)
    assert b"[" * 252 + b"]" in response.data or b"[" * 252 + b"1" in response.data


@pytest.mark.parametrize("method,path,body,loc,max_depth", [
    ("POST", "/sessions", {"session_id": "d", "session_state": {"a": json.loads(nest(254))}},
     ["body", "session_state"], 254),
    ("POST", "/sessions", {"session_id": "d", "session_state": {"a": json.loads(nest(253, "1"))}},
     ["body", "session_state"], 254),
    ("POST", "/sessions?type=workflow", {"session_id": "d", "session_state": {"a": json.loads(nest(253))}},
     ["body", "session_state"], 253),
    ("POST", "/sessions", {"session_id": "d", "metadata": {"a": json.loads(nest(900))}}, ["body", "metadata"], 254),
    ("POST", "/sessions", {"session_id": "d", "runs": [{"run_id": "r9", "x": json.loads(nest(254))}]},
     ["body", "runs", 0], 254),
    ("PATCH", "/sessions/s1", {"session_state": {"a": json.loads(nest(254))}}, ["body", "session_state"], 254),
    ("PATCH", "/sessions/s1", {"summary": {"summary": "s", "topics": json.loads(nest(254))}},
     ["body", "summary"], 254),
    ("PATCH", "/sessions/wf1", {"session_state": {"a": json.loads(nest(253))}}, ["body", "session_state"], 253),
    ("PATCH", "/sessions/wf1?type=agent", {"session_state": {"a": json.loads(nest(253))}},
     ["body", "session_state"], 253),
])
def test_nesting_agentos_cannot_answer_is_422_and_writes_nothing(client, seeded, method, path, body, loc,
                                                                 max_depth) -> None:
    """AgentOS writes the row, then fails to serialize its answer: 500 (`deep-json`)."""
    before = seeded.snapshot()
    response = client.open(path, method=method, json=body)
    assert response.status_code == 422
    (err,) = response.get_json()["detail"]
    assert (err["type"], err["loc"], err["ctx"]) == ("too_deep", loc, {"max_depth": max_depth})
    assert err["msg"] == f"Input should be nested at most {max_depth} levels deep"
    unchanged(seeded, before)


# ------------------------------------------------------------------------------------- huge numbers


def test_huge_integer_in_session_state_is_stored_and_answered(client, seeded) -> None:
    big = 10**400
    response = client.post("/sessions", data=f'{{"session_id":"big","session_state":{{"n":{big}}}}}',
                           content_type=JSON)
    assert response.status_code == 201
    assert b'"session_state":{"n":1' + b"0" * 400 + b"}" in response.data
    assert seeded.session_row("big")["session_data"]["session_state"]["n"] == big
    assert b"0" * 400 in client.get("/sessions/big").data


def test_integer_beyond_4300_digits_is_agentos_400(client, seeded) -> None:
    before = seeded.snapshot()
    ok = client.post("/sessions", data='{"session_id":"d4300","session_state":{"n":%s}}' % ("9" * 4300),
                     content_type=JSON)
    assert ok.status_code == 201
    seeded.execute("DELETE FROM ai.agno_sessions WHERE session_id = 'd4300'")
    response = client.post("/sessions", data='{"session_id":"d","session_state":{"n":%s}}' % ("9" * 4301),
                           content_type=JSON)
    assert (response.status_code, response.data) == (400, PARSE_400)
    unchanged(seeded, before)


@pytest.mark.parametrize("path,status,body_start", [
    ("/sessions/s1/runs?created_after=" + "1" + "0" * 400, 200, b"[]"),
    ("/sessions/s1/runs?created_after=9223372036854775808", 200, b"[]"),
    ("/sessions?limit=1" + "0" * 400, 422, b'{"detail":[{"type":"less_than_equal","loc":["query","limit"]'),
    ("/sessions?limit=" + "1" * 4301, 422, b'{"detail":[{"type":"int_parsing_size","loc":["query","limit"]'),
])
def test_huge_integers_in_query_parameters(client, seeded, path, status, body_start) -> None:
    response = client.get(path)
    assert response.status_code == status and response.data.startswith(body_start)


@pytest.mark.parametrize("key,value,type_", [
    ("created_at", 10**23, "less_than_equal"),
    ("run_index", -(2**63) - 1, "greater_than_equal"),
])
def test_imported_run_numbers_beyond_bigint_are_422(client, seeded, key, value, type_) -> None:
    """Our create-import extension (a 500 NumericValueOutOfRange before)."""
    before = seeded.snapshot()
    response = client.post("/sessions", json={"session_id": "d", "runs": [{"run_id": "r9", key: value}]})
    assert response.status_code == 422
    (err,) = response.get_json()["detail"]
    assert (err["type"], err["loc"], err["input"]) == (type_, ["body", "runs", 0, key], value)
    unchanged(seeded, before)


# ------------------------------------------------------------------------------------- content types


@pytest.mark.parametrize("ctype,raw", [
    (None, b'{"session_id":"c"}'),
    ("application/x-www-form-urlencoded", b"session_id=c"),
    ("text/json", b'{"session_id":"c"}'),
    ("multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; name="session_id"\r\n\r\nc\r\n--b--'),
])
def test_non_json_content_types_are_agentos_422(client, seeded, ctype, raw) -> None:
    before = seeded.snapshot()
    response = client.post("/sessions", data=raw, headers={"Content-Type": ctype} if ctype else {})
    expected = {"detail": [{"type": "model_attributes_type", "loc": ["body"],
                            "msg": "Input should be a valid dictionary or object to extract fields from",
                            "input": raw.decode()}]}
    assert (response.status_code, response.get_json()) == (422, expected)
    unchanged(seeded, before)


@pytest.mark.parametrize("ctype,raw", [
    ("application/vnd.api+json", b'{"session_id":"c1"}'),
    (JSON, '{"session_id":"c1"}'.encode("utf-16")),
    (JSON, b'\xef\xbb\xbf{"session_id":"c1"}'),
])
def test_json_variants_agentos_accepts(client, seeded, ctype, raw) -> None:
    response = client.post("/sessions", data=raw, content_type=ctype)
    assert response.status_code == 201 and response.get_json()["session_id"] == "c1"


# ------------------------------------------------------------------------------------- repeats, slashes, escapes


@pytest.mark.parametrize("path,status,check", [
    ("/sessions/s1?user_id=nobody&user_id=u1", 200, b'"session_id":"s1"'),
    ("/sessions?type=agent&type=bogus", 422, b'"input":"bogus"'),
    ("/sessions?limit=1&limit=x", 422, b'"type":"int_parsing","loc":["query","limit"],'),
    ("/sessions/a%2Fb", 404, b'{"detail":"Not Found"}'),
    ("/sessions/a%2Fb/runs", 404, b'{"detail":"Not Found"}'),
    ("/sessions/s%31", 200, b'"session_id":"s1"'),
    ("/sessions/a+b", 404, b'{"detail":"Session with id \'a+b\' not found"}'),
    ("/sessions/a%zzb", 404, b'{"detail":"Session with id \'a%zzb\' not found"}'),
    ("/sessions?user_id=%zz", 200, b'{"data":[],'),
])
def test_repeats_slashes_and_escapes_read_as_agentos(client, seeded, path, status, check) -> None:
    response = client.get(path)
    assert response.status_code == status and check in response.data


def test_encoded_slash_in_a_delete_changes_nothing(client, seeded) -> None:
    before = seeded.snapshot()
    assert client.delete("/sessions/a%2Fb").data == b'{"detail":"Not Found"}'
    unchanged(seeded, before)


@pytest.mark.parametrize("value", ["😀🎉", "مرحبا\u200eעברית", "e\u0301\u0301\u0301", "\u202e\u200d"])
def test_unicode_ids_round_trip(client, seeded, value) -> None:
    created = client.post("/sessions", json={"session_id": value, "user_id": value, "session_name": value})
    assert created.status_code == 201
    assert created.data.startswith(json.dumps({"user_id": value, "agent_session_id": value}, ensure_ascii=False,
                                              separators=(",", ":"))[:-1].encode())
    from urllib.parse import quote
    fetched = client.get("/sessions/" + quote(value) + "?user_id=" + quote(value))
    assert fetched.status_code == 200 and fetched.get_json()["session_name"] == value


# ------------------------------------------------------------------------------------- extreme lengths


@pytest.mark.parametrize("n", [3000, 10_000, 100_000, 1_000_000])
def test_session_id_too_large_for_its_index_is_422(client, seeded, n) -> None:
    """AgentOS: 500 ProgramLimitExceeded after its probe (`unstorable-value`); here a 503 "unavailable" before,
    because psycopg2 files ProgramLimitExceeded under OperationalError."""
    before = seeded.snapshot()
    response = client.post("/sessions", json={"session_id": incompressible(n)})
    assert response.status_code == 422
    assert response.get_json()["detail"].startswith("Value cannot be stored: index row ")
    unchanged(seeded, before)


def test_imported_run_id_too_large_for_its_index_is_422(client, seeded) -> None:
    before = seeded.snapshot()
    response = client.post("/sessions", json={"session_id": "d", "runs": [{"run_id": incompressible(10_000)}]})
    assert response.status_code == 422 and response.get_json()["detail"].startswith("Value cannot be stored: ")
    unchanged(seeded, before)


@pytest.mark.parametrize("field,n", [
    ("session_id", 100_000),  # compressible: fits the index, as on AgentOS
    ("user_id", 100_000), ("session_name", 1_000_000), ("agent_id", 100_000),
])
def test_long_values_agentos_stores_are_stored(client, seeded, field, n) -> None:
    value = "a" * n if field == "session_id" else incompressible(n)
    body = {"session_id": "long", **{field: value}}
    response = client.post("/sessions", json=body)
    assert response.status_code == 201
    assert seeded.session_row(body["session_id"])[field if field != "session_name" else "session_data"] == (
        value if field != "session_name" else {"session_name": value})


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_long_ids_in_paths_and_queries_are_read(client, seeded, n) -> None:
    value = incompressible(n)
    missing = client.get("/sessions/" + value)
    assert (missing.status_code, missing.data) == (404, f"{{\"detail\":\"Session with id '{value}' not found\"}}"
                                                   .encode())
    assert client.get("/sessions?user_id=" + value).get_json()["data"] == []
    before = seeded.snapshot()
    assert client.delete("/sessions/" + value).status_code == 204
    unchanged(seeded, before)


# ------------------------------------------------------------------------------------- body size limit


TOO_LARGE = b'{"detail":"Request body is larger than 100 bytes"}'


@pytest.fixture
def small(make_app, rows):
    """An app that takes bodies of at most 100 bytes."""
    return make_app(AGNO_MAX_BODY_BYTES="100").test_client()


def _sized(n: int) -> bytes:
    head = b'{"session_id":"sz","session_name":"'
    return head + b"x" * (n - len(head) - 2) + b'"}'


@pytest.mark.parametrize("method,path", [("POST", "/sessions"), ("PATCH", "/sessions/s1"),
                                         ("POST", "/sessions/s1/rename"), ("DELETE", "/sessions"),
                                         ("GET", "/sessions")])
def test_body_over_the_limit_is_413_before_it_is_read(small, seeded, method, path) -> None:
    before = seeded.snapshot()
    response = small.open(path, method=method, data=_sized(101), content_type=JSON)
    assert (response.status_code, response.data, response.content_type) == (413, TOO_LARGE, JSON)
    unchanged(seeded, before)


@pytest.mark.parametrize("size", [101, 10_000])
def test_chunked_body_over_the_limit_is_413(small, seeded, size) -> None:
    """No Content-Length: the read stops one byte past the limit."""
    before = seeded.snapshot()
    response = small.post("/sessions", input_stream=io.BytesIO(_sized(size)), content_type=JSON,
                          environ_overrides={"wsgi.input_terminated": True})
    assert (response.status_code, response.data, response.content_type) == (413, TOO_LARGE, JSON)
    unchanged(seeded, before)


def test_body_of_exactly_the_limit_is_taken(small, seeded) -> None:
    assert small.post("/sessions", data=_sized(100), content_type=JSON).status_code == 201
    chunked = small.patch("/sessions/sz", input_stream=io.BytesIO(_sized(100)), content_type=JSON,
                          environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 200


def test_default_limit_is_10_mib(client, seeded) -> None:
    before = seeded.snapshot()
    response = client.post("/sessions", data=_sized(10 * 1024 * 1024 + 1), content_type=JSON)
    assert response.data == b'{"detail":"Request body is larger than 10485760 bytes"}'
    unchanged(seeded, before)


@pytest.mark.parametrize("raw,message", [
    ("x", "AGNO_MAX_BODY_BYTES must be an integer, got 'x'"),
    ("0", "AGNO_MAX_BODY_BYTES must be between 1 and 1073741824, got 0"),
    (str(2**31), f"AGNO_MAX_BODY_BYTES must be between 1 and 1073741824, got {2**31}"),
])
def test_max_body_bytes_is_validated(raw, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"AGNO_PG_DSN": "postgresql://h/db", "AGNO_MAX_BODY_BYTES": raw})
    assert load_settings({"AGNO_PG_DSN": "postgresql://h/db"}).max_body_bytes == 10485760
    assert load_settings({"AGNO_PG_DSN": "postgresql://h/db", "AGNO_MAX_BODY_BYTES": " 2048 "}).max_body_bytes == 2048

