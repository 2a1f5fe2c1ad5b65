"""Erasure of one user (extension `erasure`) on a real PostgreSQL: the dry run counts what the job then deletes,
the job runs in batches from its row (and resumes there after its worker died), holds refuse it unless overridden,
and the receipt keeps only the keyed hash."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from service.cli import migrate
from service.storage import erasure, erasure_worker, lifecycle

KEY = "erasure-test-key-0123456789"
ERASURES, HOLDS = "ai.agno_sessions_svc_erasures", "ai.agno_sessions_svc_holds"
SUBJECT, OTHER = "subject-7f3a", "bystander-2c9e"


@pytest.fixture
def app(make_app):
    app = make_app(AGNO_ERASURE_KEY=KEY)
    migrate(app.config["SETTINGS"], lifecycle=True)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)


def seed(rows, user: str, sessions: int = 3, runs: int = 4) -> None:
    """Sessions with runs, and agno's memories table's rows, for `user`."""
    rows.execute("CREATE TABLE IF NOT EXISTS ai.agno_memories (memory_id varchar PRIMARY KEY, memory jsonb NOT NULL, "
                 "user_id varchar, created_at bigint NOT NULL)")
    for s in range(sessions):
        sid = f"{user}-s{s}"
        rows.session(sid, component_id="bot", user_id=user, session_data={"session_name": f"chat of {user}"})
        for r in range(runs):
            rows.run(sid, {"run_id": f"{sid}-r{r}", "agent_id": "bot", "content": f"hello {user}"}, user_id=user)
    rows.execute("INSERT INTO ai.agno_memories VALUES (%s, %s, %s, 1)", (f"{user}-m", f'{{"memory": "{user}"}}', user))


def dump(rows) -> list[tuple]:
    """Every row of agno's tables and the archive, as text."""
    return rows.execute("SELECT t::text FROM ai.agno_sessions t UNION ALL SELECT t::text FROM ai.agno_runs t "
                        "UNION ALL SELECT t::text FROM ai.agno_memories t UNION ALL "
                        "SELECT t::text FROM ai.agno_sessions_svc_archived_sessions t ORDER BY 1")


def erase(client, **body):
    return client.post("/sessions/-/erase", json={"user_id": SUBJECT, **body})


def run_jobs(db) -> list[dict]:
    """Run every queued job as a worker's erasure thread would, here in the test's thread."""
    done = []
    while (job := erasure_worker.run_next(db, "test-worker")) is not None:
        done.append(job)
    return done


def test_the_dry_run_counts_what_the_job_deletes_and_the_other_user_keeps_every_row(client, db, rows) -> None:
    seed(rows, SUBJECT)
    seed(rows, OTHER)
    with db.transaction() as cur:
        lifecycle.archive_in(db, cur, [f"{SUBJECT}-s0"], None, "ops", "old", 1)
    others = [row for row in dump(rows) if SUBJECT not in row[0]]
    dry = erase(client, dry_run=True)
    assert dry.status_code == 200
    counts = dry.get_json()["counts"]
    assert counts == {"runs": 8, "archived_runs": 4, "memories": 1, "holds": 0, "sessions": 2,
                      "archived_sessions": 1}
    assert rows.execute(f"SELECT count(*) FROM {ERASURES}") == [(0,)]  # a dry run writes nothing
    accepted = erase(client)
    assert accepted.status_code == 202
    pending = accepted.get_json()
    assert accepted.headers["Location"] == f"/sessions/-/erasures/{pending['receipt_id']}"
    assert pending["state"] == "pending" and pending["counts"] == {k: 0 for k in counts}
    [job] = run_jobs(db)
    assert job["state"] == "done"
    followed = client.get(accepted.headers["Location"]).get_json()
    expected_hash = hmac.new(KEY.encode(), SUBJECT.encode(), hashlib.sha256).hexdigest()
    assert followed == {"receipt_id": pending["receipt_id"], "state": "done", "user_hash": expected_hash,
                        "counts": counts, "started_at": followed["started_at"],
                        "finished_at": followed["finished_at"]}
    assert followed["started_at"] <= followed["finished_at"]
    assert dump(rows) == others
    assert not [row for row in rows.execute(f"SELECT t::text FROM {ERASURES} t") if SUBJECT in row[0]]
    assert erase(client, dry_run=True).get_json()["counts"] == {k: 0 for k in counts}


def test_a_job_whose_worker_died_is_resumed_from_its_row_with_exact_counts(client, db, rows, monkeypatch) -> None:
    seed(rows, SUBJECT, sessions=2, runs=7)
    expected = erase(client, dry_run=True).get_json()["counts"]
    receipt_id = erase(client).get_json()["receipt_id"]
    monkeypatch.setattr(erasure, "BATCH", 3)

    class Died(Exception):
        pass

    def die(*_args) -> None:  # the worker dies after its first batch committed
        raise Died()
    job = erasure.claim(db, "dying-worker")
    with pytest.raises(Died):
        erasure.run(db, job, "dying-worker", die)
    assert client.get(f"/sessions/-/erasures/{receipt_id}").get_json()["counts"]["runs"] == 3
    assert run_jobs(db) == []  # its lease holds the job until it runs out
    rows.execute(f"UPDATE {ERASURES} SET lease_until = 0")  # ... which it now has
    [job] = run_jobs(db)
    assert job["state"] == "done" and job["counts"] == expected and job["user_ref"] is None


@pytest.mark.parametrize("hold_trigger", [False, True])
def test_held_sessions_refuse_it_unless_overridden(app, client, db, rows, hold_trigger) -> None:
    if hold_trigger:  # the opt-in trigger that refuses deletes of held sessions lets an overriding erasure through
        migrate(app.config["SETTINGS"], lifecycle=True, hold_trigger=True)
    seed(rows, SUBJECT)
    rows.execute(f"INSERT INTO {HOLDS} (session_id, reason, until, held_by, held_at) VALUES (%s, 'case 7', NULL, "
                 "'legal', 1)", (f"{SUBJECT}-s1",))
    before = dump(rows)
    for dry_run in (True, False):
        refused = erase(client, dry_run=dry_run)
        assert (refused.status_code, refused.data) == (409, b'{"detail":"Session is under legal hold"}')
    assert dump(rows) == before and rows.execute(f"SELECT count(*) FROM {ERASURES}") == [(0,)]
    counts = erase(client, dry_run=True, override_holds=True).get_json()["counts"]
    assert counts["holds"] == 1 and counts["sessions"] == 3
    assert erase(client, override_holds=True).status_code == 202
    [job] = run_jobs(db)
    assert job["counts"] == counts
    assert rows.execute(f"SELECT count(*) FROM {HOLDS}") == [(0,)]


def test_a_hold_placed_while_the_job_waits_ends_it_failed(client, db, rows) -> None:
    seed(rows, SUBJECT)
    receipt_id = erase(client).get_json()["receipt_id"]
    rows.execute(f"INSERT INTO {HOLDS} (session_id, reason, until, held_by, held_at) VALUES (%s, 'case 8', NULL, "
                 "'legal', 1)", (f"{SUBJECT}-s0",))
    [job] = run_jobs(db)
    assert job["state"] == "failed" and job["user_ref"] is None
    body = client.get(f"/sessions/-/erasures/{receipt_id}").get_json()
    assert body["state"] == "failed" and body["error"] == "Session is under legal hold"


@pytest.mark.parametrize("body", [{}, {"user_id": None}, {"user_id": ""}, {"user_id": 7},
                                  {"user_id": "u", "dry_run": "yes"}, {"user_id": "u", "override_holds": 1}])
def test_bad_input_is_422_and_changes_nothing(client, rows, body) -> None:
    answer = client.post("/sessions/-/erase", json=body)
    assert answer.status_code == 422, answer.data
    assert rows.execute(f"SELECT count(*) FROM {ERASURES}") == [(0,)]


def test_an_unknown_receipt_is_404(client) -> None:
    for receipt_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        answer = client.get(f"/sessions/-/erasures/{receipt_id}")
        assert answer.status_code == 404
        assert answer.get_json() == {"detail": f"Erasure with id '{receipt_id}' not found"}


def test_without_the_lifecycle_tables_or_the_key_it_is_503(make_app) -> None:
    bare = make_app(AGNO_ERASURE_KEY=KEY).test_client()
    for answer in (bare.post("/sessions/-/erase", json={"user_id": "u", "dry_run": True}),
                   bare.get("/sessions/-/erasures/00000000-0000-4000-8000-000000000000")):
        assert answer.status_code == 503
        assert "agno-session migrate --lifecycle" in answer.get_json()["detail"]
    keyless = make_app()
    migrate(keyless.config["SETTINGS"], lifecycle=True)
    answer = keyless.test_client().post("/sessions/-/erase", json={"user_id": "u"})
    assert answer.status_code == 503 and "AGNO_ERASURE_KEY" in answer.get_json()["detail"]
    assert keyless.test_client().post("/sessions/-/erase", json={"user_id": "u", "dry_run": True}).status_code == 200


def test_the_command_line_erases_in_process_and_prints_the_receipt(app, rows) -> None:
    import io
    import json

    from service.commands.erase import erase_command

    seed(rows, SUBJECT)
    seed(rows, OTHER)
    settings = app.config["SETTINGS"]
    out, err = io.StringIO(), io.StringIO()
    assert erase_command(settings, SUBJECT, True, False, None, out, err) == 0
    counts = json.loads(out.getvalue())["counts"]
    out = io.StringIO()
    assert erase_command(settings, SUBJECT, False, False, None, out, err) == 0
    receipt = json.loads(out.getvalue())
    assert receipt["state"] == "done" and receipt["counts"] == counts and SUBJECT not in out.getvalue()
    assert "rows deleted" in err.getvalue()
    assert rows.execute("SELECT count(*) FROM ai.agno_sessions WHERE user_id = %s", (OTHER,)) == [(3,)]
    assert erase_command(settings, SUBJECT, False, False, "nope", out, err) == 2


def test_under_jwt_only_the_admin_scope_erases_and_reads_receipts(make_app, rows) -> None:
    from tests.support.jwt_tokens import JWT_ENV, token

    app = make_app(**JWT_ENV, AGNO_ERASURE_KEY=KEY)
    migrate(app.config["SETTINGS"], lifecycle=True)
    client = app.test_client()
    seed(rows, SUBJECT)
    user, admin = token(SUBJECT), token("ops", scopes=("agent_os:admin",))
    denied = b'{"detail":"Insufficient permissions. Required scope(s): agent_os:admin"}'
    for answer in (client.post("/sessions/-/erase", json={"user_id": SUBJECT}, headers=user),
                   client.get("/sessions/-/erasures/00000000-0000-4000-8000-000000000000", headers=user)):
        assert (answer.status_code, answer.data) == (403, denied)
    assert rows.execute(f"SELECT count(*) FROM {ERASURES}") == [(0,)]
    accepted = client.post("/sessions/-/erase", json={"user_id": SUBJECT}, headers=admin)
    assert accepted.status_code == 202
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    run_jobs(db)
    assert client.get(accepted.headers["Location"], headers=admin).get_json()["state"] == "done"
    assert rows.execute(f"SELECT requested_by FROM {ERASURES}") == [("sub:ops",)]


def test_every_erasure_answer_conforms_to_the_document(client, db, rows) -> None:
    from tests.support.openapi_spec import conformance_problems

    seed(rows, SUBJECT)
    answers = [("POST", "/sessions/-/erase", erase(client, dry_run=True)), ("POST", "/sessions/-/erase", erase(client))]
    location = answers[-1][2].headers["Location"]
    answers.append(("GET", location, client.get(location)))  # pending
    run_jobs(db)
    answers += [("GET", location, client.get(location)),  # done
                ("GET", "/sessions/-/erasures/not-a-receipt", client.get("/sessions/-/erasures/not-a-receipt")),
                ("POST", "/sessions/-/erase", client.post("/sessions/-/erase", json={"user_id": 1}))]
    assert [code for _, _, answer in answers for code in [answer.status_code]] == [200, 202, 200, 200, 404, 422]
    assert [p for method, url, answer in answers for p in conformance_problems(method, url, answer)] == []


def test_the_console_command_is_wired(app, pg_dsn, rows, monkeypatch, capsys) -> None:
    from service.cli import main

    seed(rows, SUBJECT)
    monkeypatch.setenv("AGNO_PG_DSN", pg_dsn)
    monkeypatch.setenv("AGNO_ERASURE_KEY", KEY)
    assert main(["erase", "--user-id", SUBJECT, "--dry-run"]) == 0
    assert '"sessions": 3' in capsys.readouterr().out
    assert main(["erase", "--user-id", SUBJECT]) == 0
    assert '"state": "done"' in capsys.readouterr().out
    assert rows.execute("SELECT count(*) FROM ai.agno_sessions") == [(0,)]
