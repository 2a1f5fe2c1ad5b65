"""Idempotency-Key on POST and bulk DELETE /sessions (extension `idempotency-keys`): a replay answers the first
answer again and writes nothing, another request under the key is 422, and the key table keeps what it should."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from service.cli import migrate
from tests.support.rows import execute

KEYS = "ai.agno_sessions_svc_idempotency"


def keyed_app(make_app, **env: str):
    """The app over tables that `agno-session migrate --idempotency` completed."""
    app = make_app(**env)
    migrate(app.config["SETTINGS"], idempotency=True)
    return app


@pytest.fixture
def client(make_app):
    return keyed_app(make_app).test_client()


def create(client, body: object, key: str | None = "k-1", path: str = "/sessions"):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(path, json=body, headers=headers)


def sessions(rows) -> int:
    return rows.execute("SELECT count(*) FROM ai.agno_sessions")[0][0]


def test_a_retry_with_the_key_replays_the_first_answer_and_writes_nothing(client, rows) -> None:
    first = create(client, {"session_name": "once", "session_state": {"a": 1}})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = create(client, {"session_state": {"a": 1}, "session_name": "once"})  # same JSON, other key order
    assert again.status_code == 201 and again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert sessions(rows) == 1
    other_key = create(client, {"session_name": "once", "session_state": {"a": 1}}, key="k-2")
    assert other_key.get_json()["session_id"] != first.get_json()["session_id"] and sessions(rows) == 2


def test_the_same_key_for_another_request_is_422_and_writes_nothing(client, rows) -> None:
    create(client, {"session_name": "first"})
    expected = b'{"detail":"Idempotency-Key reused with a different request"}'
    for other in (create(client, {"session_name": "second"}),  # another body
                  create(client, {"session_name": "first"}, path="/sessions?type=team"),  # another query
                  client.delete("/sessions", json={"session_ids": [], "session_types": []},
                                headers={"Idempotency-Key": "k-1"})):  # another method
        assert (other.status_code, other.data) == (422, expected)
    assert sessions(rows) == 1


def test_keys_are_per_caller(make_app, rows) -> None:
    client = keyed_app(make_app, OS_SECURITY_KEY="s3cret").test_client()
    auth = {"Authorization": "Bearer s3cret", "Idempotency-Key": "shared"}
    first = client.post("/sessions", json={}, headers=auth)
    assert client.post("/sessions", json={}, headers=auth).data == first.data
    callers = rows.execute(f"SELECT caller FROM {KEYS}")
    assert callers == [("key",)]


@pytest.mark.parametrize(("key", "kind"), [("x" * 256, "string_too_long"), ("", "string_too_short"),
                                           ('""', "string_too_short"), ("caf\u00e9", "string_pattern_mismatch")])
def test_an_invalid_key_is_422_and_writes_nothing(client, rows, key: str, kind: str) -> None:
    response = create(client, {"session_name": "never"}, key=key)
    assert response.status_code == 422
    (error,) = response.get_json()["detail"]
    assert error["type"] == kind and error["loc"] == ["header", "idempotency-key"]
    assert sessions(rows) == 0 and rows.execute(f"SELECT count(*) FROM {KEYS}") == [(0,)]


def test_the_longest_key_and_the_structured_field_form_are_accepted(client, rows) -> None:
    assert create(client, {}, key="x" * 255).status_code == 201
    first = create(client, {}, key='"sf-key"')
    assert create(client, {}, key="sf-key").data == first.data  # the same key, quoted or bare


def test_a_4xx_answer_is_kept_and_nothing_of_its_write_is(client, rows) -> None:
    rows.session("taken")
    body = {"session_id": "new-one", "runs": [{"run_id": "r1"}, {"run_id": "r1"}]}  # a repeated run id: 409
    first = create(client, body)
    assert first.status_code == 409 and rows.session_row("new-one") is None
    replay = create(client, body)
    assert (replay.status_code, replay.data, replay.headers["Idempotent-Replayed"]) == (409, first.data, "true")
    assert rows.execute(f"SELECT status FROM {KEYS}") == [(409,)]


def test_a_5xx_answer_is_not_kept_so_a_retry_runs_again(client, rows) -> None:
    body = {"session_ids": ["a"], "session_types": ["agent"]}
    headers = {"Idempotency-Key": "media"}
    first = client.delete("/sessions?delete_media=true", json=body, headers=headers)
    assert first.status_code == 503
    assert rows.execute(f"SELECT count(*) FROM {KEYS}") == [(0,)]
    assert "Idempotent-Replayed" not in client.delete("/sessions?delete_media=true", json=body, headers=headers).headers


def test_a_bulk_delete_is_replayed(client, rows) -> None:
    rows.session("gone-1")
    body = {"session_ids": ["gone-1"], "session_types": ["agent"]}
    first = client.delete("/sessions", json=body, headers={"Idempotency-Key": "del"})
    assert first.status_code == 204 and rows.session_row("gone-1") is None
    rows.session("gone-1")  # recreated since: a replay does not delete it again
    again = client.delete("/sessions", json=body, headers={"Idempotency-Key": "del"})
    assert (again.status_code, again.data, again.headers["Idempotent-Replayed"]) == (204, b"", "true")
    assert "Content-Length" not in again.headers and again.headers["Content-Type"] == "application/json"
    assert rows.session_row("gone-1") is not None


def test_without_the_header_nothing_is_stored(client, rows) -> None:
    create(client, {}, key=None)
    assert rows.execute(f"SELECT count(*) FROM {KEYS}") == [(0,)]


def test_expired_keys_are_swept_by_later_claims(client, rows) -> None:
    first = create(client, {}, key="old")
    create(client, {}, key="kept")
    rows.execute(f"UPDATE {KEYS} SET expires_at = now() - interval '1 second' WHERE idempotency_key = 'old'")
    create(client, {}, key="new")  # its claim deletes the expired one
    assert sorted(rows.execute(f"SELECT idempotency_key FROM {KEYS}")) == [("kept",), ("new",)]
    rows.execute(f"UPDATE {KEYS} SET expires_at = now() - interval '1 second' WHERE idempotency_key = 'kept'")
    again = create(client, {}, key="kept")  # expired: a new request, not a replay
    assert "Idempotent-Replayed" not in again.headers and again.data != first.data


def test_a_key_held_by_another_transaction_is_409_after_the_wait(make_app, pg_dsn, rows) -> None:
    client = keyed_app(make_app, AGNO_IDEMPOTENCY_WAIT="1").test_client()
    holder = psycopg2.connect(pg_dsn)
    try:
        with holder.cursor() as cur:  # a request in flight: its key inserted, not committed
            cur.execute(f"INSERT INTO {KEYS} (caller, idempotency_key, fingerprint, expires_at) "
                        "VALUES ('anonymous', 'busy', 'x', now() + interval '1 hour')")
        response = create(client, {}, key="busy")
        assert (response.status_code, response.data) == (
            409, b'{"detail":"A request with this Idempotency-Key is in progress"}')
        assert sessions(rows) == 0
    finally:
        holder.rollback()
        holder.close()
    assert create(client, {}, key="busy").status_code == 201  # rolled back: the key is free


def test_a_request_waits_for_the_one_holding_its_key_and_replays_its_answer(make_app, pg_dsn, rows) -> None:
    client = keyed_app(make_app, AGNO_IDEMPOTENCY_WAIT="120").test_client()  # it waits however slow the machine
    holder = psycopg2.connect(pg_dsn)
    answer: list = []
    try:
        with holder.cursor() as cur:
            cur.execute(f"INSERT INTO {KEYS} (caller, idempotency_key, fingerprint, expires_at) "
                        "VALUES ('anonymous', 'slow', 'x', now() + interval '1 hour')")
        waiting = threading.Thread(target=lambda: answer.append(create(client, {}, key="slow")))
        waiting.start()
        for _ in range(200):  # until its insert waits on the holder's transaction (no sleeping on a guess)
            if execute(pg_dsn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND query LIKE '%%svc_idempotency%%'")[0][0]:
                break
            waiting.join(0.02)
        else:
            pytest.fail("the request never waited on the key")
        with holder.cursor() as cur:
            fingerprint = _fingerprint_of_create()
            cur.execute(f"UPDATE {KEYS} SET fingerprint = %s, status = 201, headers = %s, body = 'kept' "
                        "WHERE idempotency_key = 'slow'", (fingerprint, '[["Content-Type", "application/json"]]'))
        holder.commit()
        waiting.join(30)
    finally:
        holder.close()
    (response,) = answer
    assert (response.status_code, response.data, response.headers["Idempotent-Replayed"]) == (201, b"kept", "true")
    assert sessions(rows) == 0


def _fingerprint_of_create() -> str:
    from service.rules.idempotency import fingerprint
    return fingerprint("POST", "/sessions", [], b"{}")


def test_without_the_key_table_a_keyed_request_is_503_and_others_work(make_app, rows) -> None:
    client = make_app().test_client()  # plain `migrate`: agno's tables only
    response = create(client, {})
    assert (response.status_code, response.data) == (
        503, b'{"detail":"Idempotency keys are not available on this database"}')
    assert sessions(rows) == 0
    assert create(client, {}, key=None).status_code == 201
