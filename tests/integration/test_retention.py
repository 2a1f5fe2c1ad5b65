"""Retention policies on a real PostgreSQL: what a policy matches (type, component, user, metadata, age by last
activity or creation), that the sweep does exactly what the plan says and never touches a held session, that
trim_runs keeps exactly the last N runs in agno's read order, and that an interrupted sweep continues when rerun."""

from __future__ import annotations

import pytest

from service.cli import migrate
from service.core.retention_policies import Policy
from service.storage import retention

NOW = 1_800_000_000
DAY = 86400
OLD, RECENT = NOW - 100 * DAY, NOW - 5 * DAY
HOLDS, ARCHIVED = "ai.agno_sessions_svc_holds", "ai.agno_sessions_svc_archived_sessions"


@pytest.fixture
def db(app):
    """The app's database with the lifecycle's tables installed."""
    migrate(app.config["SETTINGS"], lifecycle=True)
    return app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)


def session(rows, sid: str, session_type: str = "agent", *, at: int = OLD, runs: int = 0, run_at: int | None = None,
            **columns) -> None:
    rows.session(sid, session_type, created_at=at, **columns)
    for i in range(runs):
        rows.run(sid, {"run_id": f"{sid}-r{i}", "agent_id": "bot"}, created_at=run_at or at + i)


def live_ids(rows) -> set[str]:
    return {r[0] for r in rows.execute("SELECT session_id FROM ai.agno_sessions")}


def hold(rows, sid: str, until: int | None = None) -> None:
    rows.execute(f"INSERT INTO {HOLDS} (session_id, reason, until, held_at) VALUES (%s, 'case 7', %s, %s)",
                 (sid, until, NOW))


def policy(**fields) -> Policy:
    return Policy(**{"name": "p", "after": 90 * DAY, "action": "delete", **fields})


def test_match_by_type_component_user_and_metadata(db, rows) -> None:
    session(rows, "hit", component_id="support-bot", user_id="u1", metadata={"tier": "free", "n": 1})
    session(rows, "other-bot", component_id="sales-bot", user_id="u1", metadata={"tier": "free", "n": 1})
    session(rows, "other-user", component_id="support-bot", user_id="u2", metadata={"tier": "free", "n": 1})
    session(rows, "paid", component_id="support-bot", user_id="u1", metadata={"tier": "paid", "n": 1})
    session(rows, "team", "team", component_id="support-bot", user_id="u1", metadata={"tier": "free", "n": 1})
    session(rows, "recent", at=RECENT, component_id="support-bot", user_id="u1", metadata={"tier": "free", "n": 1})
    chosen = policy(session_type="agent", component_id="support-bot", user_id="u1",
                    metadata=(("tier", "free"), ("n", "1")))
    [planned] = retention.plan(db, (chosen,), NOW, 10)
    assert (planned.sessions, planned.first_ids) == (1, ["hit"])
    retention.sweep(db, chosen, NOW, 10)
    assert live_ids(rows) == {"other-bot", "other-user", "paid", "team", "recent"}


def test_last_activity_is_the_later_of_the_session_and_its_runs(db, rows) -> None:
    session(rows, "idle", runs=2)
    session(rows, "run-recently", runs=2, run_at=RECENT)  # old session row, a recent run
    session(rows, "updated-recently", updated_at=RECENT)
    session(rows, "never-updated", updated_at=None)
    [planned] = retention.plan(db, (policy(),), NOW, 10)
    assert planned.first_ids == ["idle", "never-updated"]
    assert planned.runs == 2
    [by_creation] = retention.plan(db, (policy(basis="created"),), NOW, 10)
    assert by_creation.sessions == 4


def test_the_sweep_removes_exactly_what_the_plan_listed_and_nothing_held(db, rows) -> None:
    for n in range(25):
        session(rows, f"old-{n:02}", runs=2, user_id="u1")
    session(rows, "young", at=RECENT, runs=1, user_id="u1")
    hold(rows, "old-03")
    hold(rows, "old-07", until=NOW + DAY)
    hold(rows, "old-11", until=NOW - DAY)  # ended: no longer holds
    chosen = policy(action="archive")
    [planned] = retention.plan(db, (chosen,), NOW, 1000)
    assert (planned.sessions, planned.runs, planned.held) == (23, 46, 2)
    before = live_ids(rows)
    done = retention.sweep(db, chosen, NOW, 4)
    assert before - live_ids(rows) == set(planned.first_ids)
    assert {"old-03", "old-07", "young"} <= live_ids(rows)
    assert (done.sessions, done.runs, done.held, done.busy) == (23, 46, 2, 0)
    assert {r[0] for r in rows.execute(f"SELECT session_id FROM {ARCHIVED}")} == set(planned.first_ids)
    [after] = retention.plan(db, (chosen,), NOW, 10)
    assert (after.sessions, after.held) == (0, 2)


def test_trim_keeps_exactly_the_last_n_runs_in_agnos_read_order(db, rows) -> None:
    session(rows, "long")
    for i, (index, created) in enumerate([(0, 5), (1, 1), (1, 2), (2, 9), (9, 3), (3, 4), (9, 1)]):
        rows.run("long", {"run_id": f"r{i}", "agent_id": "bot"}, run_index=index, created_at=OLD + created)
    # a NULL run_index sorts last, as agno reads runs: those two are the newest
    rows.execute("UPDATE ai.agno_runs SET run_index = NULL WHERE run_index = 9")
    session(rows, "short", runs=2)
    order = rows.run_ids("long")
    chosen = policy(action="trim_runs", keep_last=3)
    [planned] = retention.plan(db, (chosen,), NOW, 10)
    assert (planned.sessions, planned.runs, planned.first_ids) == (1, 4, ["long"])
    done = retention.sweep(db, chosen, NOW, 10)
    assert (done.sessions, done.runs) == (1, 4)
    assert rows.run_ids("long") == order[-3:]
    assert len(rows.run_ids("short")) == 2
    assert retention.plan(db, (chosen,), NOW, 10)[0].sessions == 0  # done: it no longer matches


def test_an_interrupted_sweep_continues_when_run_again(db, rows) -> None:
    for n in range(30):
        session(rows, f"s{n:02}", runs=1)
    chosen = policy()
    [planned] = retention.plan(db, (chosen,), NOW, 100)

    class Interrupted(Exception):
        pass

    def stop_after_two_batches(done: retention.Outcome) -> None:
        if done.batches == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        retention.sweep(db, chosen, NOW, 7, stop_after_two_batches)
    assert len(live_ids(rows)) == 30 - 14  # the two batches committed, nothing more
    rest = retention.sweep(db, chosen, NOW, 7)
    assert rest.sessions == 16
    assert live_ids(rows) == set()
    assert planned.sessions == 30


def test_a_later_policy_does_not_count_what_an_earlier_one_removes(db, rows) -> None:
    session(rows, "both", runs=1, user_id="u1")
    session(rows, "second-only", runs=1, user_id="u2")
    first, second = policy(name="a", user_id="u1"), policy(name="b", action="archive")
    planned = retention.plan(db, (first, second), NOW, 10)
    assert [p.first_ids for p in planned] == [["both"], ["second-only"]]


def test_a_session_a_writer_holds_is_left_for_the_next_run(db, rows, pg_dsn) -> None:
    import psycopg2

    for n in range(5):
        session(rows, f"s{n}", runs=1)
    writer = psycopg2.connect(pg_dsn)
    try:
        with writer.cursor() as cur:  # an open transaction on s2, as agno's upsert holds it
            cur.execute("UPDATE ai.agno_sessions SET summary = summary WHERE session_id = 's2'")
            done = retention.sweep(db, policy(), NOW, 10)
        writer.rollback()
    finally:
        writer.close()
    assert (done.sessions, done.busy) == (4, 1)
    assert live_ids(rows) == {"s2"}
    assert retention.sweep(db, policy(), NOW, 10).sessions == 1


def test_retention_without_the_lifecycle_tables_is_refused(app) -> None:
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    with pytest.raises(retention.RetentionUnavailable, match="migrate --lifecycle"):
        retention.plan(db, (policy(),), NOW, 10)
