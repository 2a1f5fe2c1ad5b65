"""Per-user memory, in process and in agno's tables: isolation, bounds, concurrency, eviction, persistence."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.lib import memory as memory_module
from service.lib.memory import ConversationMemory, MemorySessionConflict, StoreMemory, bounded, normalize_user_id
from service.storage.pool import Database

USERS = [f"user-{i}" for i in range(10)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


@pytest.fixture
def db(app) -> Database:
    return next(iter(app.config["REGISTRY"]))


@pytest.fixture(params=["process", "store"])
def memory_factory(request, db):
    """Build either implementation with a given per-user bound."""
    if request.param == "process":
        return lambda bound=100: ConversationMemory(max_messages_per_user=bound)
    return lambda bound=100: StoreMemory(db, max_messages_per_user=bound)


def contents(messages: list[dict]) -> list[str]:
    return [m["content"] for m in messages]


@pytest.fixture
def interleaved(monkeypatch, db) -> None:
    """Another thread gets to run in the middle of each critical section of both memories: without this the
    GIL (or the database's speed) would almost never interleave them, and a missing lock would go unnoticed."""

    class SlowTenant(memory_module._Tenant):
        def __init__(self, now: float) -> None:  # between "the user has no tenant" and storing the new one
            time.sleep(0.005)
            super().__init__(now)

    is_system = memory_module._is_system
    monkeypatch.setattr(memory_module, "_Tenant", SlowTenant)
    monkeypatch.setattr(memory_module, "_is_system", lambda m: time.sleep(0.0001) or is_system(m))  # in trims
    query = db.query

    def slow_trim(name: str, **fragments):  # noqa: ANN202 - Database.query's result
        if name == "memory_trim":  # the new run is written, not yet committed: others' writes arrive now
            time.sleep(0.001)
        return query(name, **fragments)

    monkeypatch.setattr(db, "query", slow_trim)


def stored_runs(memory, rows, user: str) -> tuple[int, int]:
    """A StoreMemory user's stored runs and distinct run indexes, which get_messages and size cannot show."""
    [(count, indexes)] = rows.execute("SELECT count(*), count(DISTINCT run_index) FROM ai.agno_runs "
                                      "WHERE session_id = %s", (memory.session_id(user),))
    return count, indexes


def test_concurrent_adds_are_counted_exactly_per_user(memory_factory, interleaved, rows) -> None:
    memory = memory_factory(1000)
    jobs = [(u, n) for n in range(100) for u in USERS]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda job: memory.add(job[0], msg("user", f"{job[0]}#{job[1]}")), jobs))
    for user in USERS:
        got = memory.get_messages(user)
        assert memory.size(user) == 100
        assert sorted(contents(got)) == sorted(f"{user}#{n}" for n in range(100))
        if isinstance(memory, StoreMemory):  # one run per message, appended one after the other
            assert stored_runs(memory, rows, user) == (100, 100)


def test_users_never_see_each_other(memory_factory) -> None:
    memory = memory_factory()
    memory.add("alice", msg("user", "secret of alice"))
    memory.add("bob", msg("user", "secret of bob"))
    assert contents(memory.get_messages("alice")) == ["secret of alice"]
    assert contents(memory.get_messages("bob")) == ["secret of bob"]
    assert memory.get_messages("carol") == [] and memory.size("carol") == 0
    memory.clear("alice")
    assert memory.get_messages("alice") == [] and memory.size("bob") == 1
    memory.clear_all()
    assert memory.size("bob") == 0


def test_bound_keeps_system_messages_and_order(memory_factory) -> None:
    memory = memory_factory(5)
    memory.add("u", msg("system", "s1"))
    for n in range(4):
        memory.add("u", msg("user", f"m{n}"))
    memory.add("u", msg("system", "s2"))
    memory.add("u", msg("user", "m4"))
    assert contents(memory.get_messages("u")) == ["s1", "m2", "m3", "s2", "m4"]
    for n in range(5):
        memory.add("u", msg("system", f"t{n}"))
    assert contents(memory.get_messages("u")) == ["t0", "t1", "t2", "t3", "t4"]
    assert memory.size("u") == 5


def test_bound_holds_under_concurrency(memory_factory, interleaved, rows) -> None:
    memory = memory_factory(50)
    for n in range(4):
        memory.add("shared", msg("system", f"sys{n}"))
    at_once = threading.Barrier(10)

    def writer(t: int) -> None:
        for n in range(20):
            at_once.wait()  # ten adds at a time, each over the bound: their trims overlap
            memory.add("shared", msg("user", f"{t}:{n:02d}"))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = contents(memory.get_messages("shared"))
    assert len(got) == 50 and memory.size("shared") == 50
    if isinstance(memory, StoreMemory):  # the trims left exactly the bound, each run at its own index
        assert stored_runs(memory, rows, "shared") == (50, 50)
    assert got[:4] == ["sys0", "sys1", "sys2", "sys3"]
    for t in range(10):  # each writer's messages keep its order, and only its newest ones survive
        mine = [c for c in got[4:] if c.startswith(f"{t}:")]
        assert mine == sorted(mine)
        assert mine == [f"{t}:{n:02d}" for n in range(20 - len(mine), 20)]


def test_empty_user_id_is_default(memory_factory) -> None:
    memory = memory_factory()
    memory.add("", msg("user", "hello"))
    assert contents(memory.get_messages("default")) == ["hello"]
    assert memory.size("") == 1


@pytest.mark.parametrize("bad", ["x" * 256, "a\x00b", None, 42, b"bytes"])
def test_invalid_user_ids_are_refused(memory_factory, bad) -> None:
    memory = memory_factory()
    for call in (lambda: memory.add(bad, msg("user", "x")), lambda: memory.get_messages(bad),
                 lambda: memory.size(bad), lambda: memory.clear(bad)):
        with pytest.raises(ValueError, match="user_id"):
            call()
    assert normalize_user_id("x" * 255) == "x" * 255


def test_invalid_messages_are_refused(memory_factory) -> None:
    memory = memory_factory()
    for bad in ("text", {"content": "no role"}, {"role": 1}):
        with pytest.raises(ValueError, match="message"):
            memory.add("u", bad)
    assert memory.size("u") == 0


def test_returned_messages_are_copies() -> None:
    memory = ConversationMemory()
    original = {"role": "user", "content": "hi", "meta": {"k": 1}}
    memory.add("u", original)
    original["meta"]["k"] = 2
    memory.get_messages("u")[0]["meta"]["k"] = 3
    assert memory.get_messages("u")[0]["meta"] == {"k": 1}


def test_idle_users_are_evicted_by_age() -> None:
    clock = FakeClock()
    memory = ConversationMemory(idle_seconds=10, clock=clock)
    memory.add("old", msg("user", "a"))
    clock.now = 6
    memory.add("recent", msg("user", "b"))
    clock.now = 12
    memory.add("new", msg("user", "c"))
    assert memory.users() == ["recent", "new"]
    assert memory.get_messages("old") == []
    clock.now = 100
    assert memory.size("new") == 0 and memory.users() == []


def test_least_recently_used_users_are_evicted_by_count() -> None:
    clock = FakeClock()
    memory = ConversationMemory(max_users=3, clock=clock)
    for n, user in enumerate(["a", "b", "c"]):
        clock.now = n
        memory.add(user, msg("user", user))
    clock.now = 3
    assert contents(memory.get_messages("a")) == ["a"]  # reading counts as use
    clock.now = 4
    memory.add("d", msg("user", "d"))
    assert memory.users() == ["c", "a", "d"]
    assert memory.size("b") == 0


def test_constructor_refuses_useless_bounds() -> None:
    for kwargs in ({"max_messages_per_user": 0}, {"max_users": 0}, {"idle_seconds": -1}):
        with pytest.raises(ValueError):
            ConversationMemory(**kwargs)


def test_bounded_rule() -> None:
    msgs = [msg("system", "s0"), msg("user", "u0"), msg("system", "s1"), msg("user", "u1")]
    assert contents(bounded(msgs, 3)) == ["s0", "s1", "u1"]
    assert contents(bounded(msgs, 1)) == ["s1"]
    assert bounded(msgs, 4) == msgs


def test_store_memory_survives_restart_and_other_workers(app, db) -> None:
    StoreMemory(db).add("alice", msg("user", "remember me"))
    other_worker = Database(db.config, 2, 30)
    try:
        restarted = StoreMemory(other_worker)
        restarted.add("alice", msg("assistant", "I will"))
        got = restarted.get_messages("alice")
        assert contents(got) == ["remember me", "I will"]
        assert all(isinstance(m["id"], str) and isinstance(m["created_at"], int) for m in got)
        assert StoreMemory(db).size("alice") == 2
    finally:
        other_worker.close()


def test_store_memory_concurrent_adds_from_two_workers(db, interleaved, rows) -> None:
    other_worker = Database(db.config, 4, 30)
    try:
        memories = [StoreMemory(db, max_messages_per_user=1000), StoreMemory(other_worker, max_messages_per_user=1000)]
        jobs = [(n, u) for n in range(30) for u in USERS[:4]]
        with ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(lambda job: memories[job[0] % 2].add(job[1], msg("user", str(job[0]))), jobs))
        for user in USERS[:4]:
            assert sorted(contents(memories[0].get_messages(user)), key=int) == [str(n) for n in range(30)]
            assert stored_runs(memories[0], rows, user) == (30, 30)
    finally:
        other_worker.close()


def test_store_memory_clear_waits_for_an_add_in_flight(db, rows, monkeypatch) -> None:
    """The user's advisory lock makes clear() wait for an open add() before it reads the runs, so the add's run
    goes too, even from a runs table created without agno's cascade (else a later add would bring it back)."""
    rows.execute("ALTER TABLE ai.agno_runs DROP CONSTRAINT agno_runs_session_id_fkey")
    memory = StoreMemory(db)
    memory.add("u", msg("user", "before"))
    written, go_on = threading.Event(), threading.Event()
    query = db.query

    def pausing(name: str, **fragments):  # noqa: ANN202 - Database.query's result
        if name == "memory_trim" and threading.current_thread().name == "adder":
            written.set()  # the add's run is inserted, its transaction still open
            go_on.wait(10)
        return query(name, **fragments)

    monkeypatch.setattr(db, "query", pausing)
    adder = threading.Thread(target=memory.add, args=("u", msg("user", "in flight")), name="adder")
    adder.start()
    assert written.wait(10)
    clearer = threading.Thread(target=memory.clear, args=("u",))
    clearer.start()
    try:
        deadline = time.monotonic() + 10
        while rows.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'") != [(1,)]:  # clear() is blocked behind the add
            assert time.monotonic() < deadline, "clear() never waited for the add in flight"
            time.sleep(0.01)
    finally:
        go_on.set()
        adder.join(10)
        clearer.join(10)
    memory.add("u", msg("user", "after"))
    assert contents(memory.get_messages("u")) == ["after"]  # nothing cleared comes back
    assert stored_runs(memory, rows, "u") == (1, 1)


def test_store_memory_shows_through_the_sessions_api(client, db) -> None:
    memory = StoreMemory(db)
    memory.add("alice", msg("system", "be nice"))
    memory.add("alice", msg("user", "hi"))
    memory.add("alice", msg("assistant", "hello"))
    memory.add("bob", msg("user", "not alice"))

    response = client.get("/sessions/memory:alice")
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["user_id"] == "alice" and body["agent_id"] == "memory"
    assert [(m["role"], m["content"]) for m in body["chat_history"]] == [("user", "hi"), ("assistant", "hello")]
    assert [m["id"] for m in body["chat_history"]] == [m["id"] for m in memory.get_messages("alice")[1:]]

    runs = client.get("/sessions/memory:alice/runs")
    assert runs.status_code == 200, runs.data
    assert [r["run_input"] for r in runs.get_json()][1] == "hi"

    listed = client.get("/sessions?type=agent&user_id=alice").get_json()
    assert [s["session_id"] for s in listed["data"]] == ["memory:alice"]

    memory.clear_all()
    assert client.get("/sessions/memory:alice").status_code == 404
    assert memory.size("bob") == 0


def test_store_memory_clear_all_spares_other_sessions(client, db, rows) -> None:
    rows.session("memory-notes", "agent", component_id="memory", user_id="alice", created_at=1767225600)
    memory = StoreMemory(db)
    memory.add("alice", msg("user", "x"))
    memory.clear_all()
    assert client.get("/sessions/memory-notes").status_code == 200


def test_store_memory_never_takes_over_a_foreign_session(db, rows) -> None:
    rows.session("memory:carol", "agent", component_id="someone-else", user_id="carol")
    with pytest.raises(MemorySessionConflict):
        StoreMemory(db).add("carol", msg("user", "x"))
    assert rows.run_ids("memory:carol") == []


def test_store_memory_rows_look_like_agnos(db, rows) -> None:
    StoreMemory(db).add("dave", msg("user", "hi"))
    row = rows.session_row("memory:dave")
    assert row["session_type"] == "agent" and row["agent_id"] == "memory" and row["user_id"] == "dave"
    assert row["json_types"] == {"sd": "null", "ad": "null", "td": None, "wd": None, "md": "null", "su": "null"}
