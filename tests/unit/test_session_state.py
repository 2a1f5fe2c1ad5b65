"""SessionState: locking under 1000 threads, true deep copies, deadlock-free merges, deterministic branch merges."""

from __future__ import annotations

import copy
import threading
import time
from types import SimpleNamespace

from service.lib import state as state_module
from service.lib.state import SessionState, merge_parallel


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


def run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)


def test_default_constructor_is_usable_at_once() -> None:
    state = SessionState()
    state.set("a", 1)
    assert state.get("a") == 1 and state.get("missing", "d") == "d" and len(state) == 1 and "a" in state
    assert state.delete("a") and not state.delete("a")
    state.set("b", 2)
    state.clear()
    assert state.get_all() == {}


def yielding_deepcopy(value, memo=None):  # noqa: ANN001, ANN201 - copy.deepcopy's signature
    """copy.deepcopy that first lets another thread run: the GIL alone would almost never switch threads inside
    a critical section this short, so a missing lock would go unnoticed."""
    time.sleep(0)
    return copy.deepcopy(value, memo)


def test_thousand_threads_no_lost_writes_exact_counters_consistent_snapshots(monkeypatch) -> None:
    # Every deep copy SessionState makes (inside each of its critical sections) yields the GIL first.
    monkeypatch.setattr(state_module, "copy", SimpleNamespace(deepcopy=yielding_deepcopy))
    state = SessionState({"pair": [0, 0]})
    barrier = threading.Barrier(50)
    torn: list[dict] = []

    def work(i: int) -> None:
        if i < 50:
            barrier.wait()
        state.set(f"k{i}", i)
        state.update("counter", lambda n: n + 1, 0)
        with state.lock:
            state.set("locked", state.get("locked", 0) + 1)
        with state.locked() as live:  # two values that must always change together
            live["pair"][0] += 1
            time.sleep(0)  # other threads run here: only the lock keeps them from the half-done change
            live["pair"][1] += 1
        snap = state.get_all()
        if snap["pair"][0] != snap["pair"][1]:
            torn.append(snap)
        snap["pair"].append("mutated")  # a deep copy: never visible in the state

    run_threads(work, 1000)
    final = state.get_all()
    assert all(final[f"k{i}"] == i for i in range(1000))
    assert final["counter"] == 1000 and final["locked"] == 1000 and final["pair"] == [1000, 1000]
    assert torn == []


def test_get_and_get_all_hand_out_deep_copies() -> None:
    state = SessionState({"nested": {"list": [1]}})
    state.get("nested")["list"].append(2)
    state.get_all()["nested"]["list"].append(3)
    mine = {"x": [1]}
    state.set("mine", mine)
    mine["x"].append(2)
    assert state.get_all() == {"nested": {"list": [1]}, "mine": {"x": [1]}}


def test_clone_is_a_deep_copy_that_keeps_python_types() -> None:
    point = Point(3)
    state = SessionState({"i": 1, "f": 1.5, "t": (1, 2), "s": {1, 2}, "p": point, "d": {"inner": [point]}})
    clone = state.clone()
    data = clone.get_all()
    assert type(data["i"]) is int and type(data["f"]) is float and data["t"] == (1, 2) and data["s"] == {1, 2}
    assert isinstance(data["p"], Point) and data["p"] is not point and data["p"].x == 3
    assert data["d"]["inner"][0] is data["p"]  # shared references stay shared inside the copy
    clone.set("i", 99)
    assert state.get("i") == 1
    assert isinstance(copy.copy(state), SessionState) and copy.deepcopy(state) == state  # never shallow
    assert copy.copy(state).get("p") is not point


def test_concurrent_cross_merges_and_self_merge_complete() -> None:
    a, b = SessionState({"a": 1, "shared": {"x": 1}}), SessionState({"b": 2, "shared": {"y": 2}})
    done = threading.Event()

    def cross(i: int) -> None:
        (a.merge(b) if i % 2 else b.merge(a))
        a.merge(a)

    def run() -> None:
        run_threads(cross, 200)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(timeout=20), "merges deadlocked"
    assert a.get_all() == b.get_all() == {"a": 1, "b": 2, "shared": {"x": 1, "y": 2}}


def test_merge_parallel_applies_branches_in_order() -> None:
    original = {"keep": 0, "conflict": "orig", "gone": 1, "nested": {"a": 1, "b": 1, "drop": 1}}
    b1 = {"keep": 0, "conflict": "one", "nested": {"a": 10, "b": 1, "drop": 1}, "new": 1}
    b2 = {"keep": 0, "conflict": "two", "gone": 1, "nested": {"a": 1, "b": 20}}
    assert merge_parallel(original, [b1, b2]) == {
        "keep": 0, "conflict": "two", "nested": {"a": 10, "b": 20}, "new": 1,
    }
    assert merge_parallel(original, [b2, b1])["conflict"] == "one"
    assert original["nested"] == {"a": 1, "b": 1, "drop": 1}  # inputs untouched


def test_unchanged_values_never_overwrite_a_sibling_change() -> None:
    original = SessionState({"obj": Point(1), "n": 1, "d": {"k": 1}})
    first, second = original.clone(), original.clone()
    first.set("obj", Point(2))
    first.set("n", 1.0)  # 1 -> 1.0 is a change of type
    first.set("d", "replaced")
    merged = merge_parallel(original, [first, second])
    assert merged["obj"].x == 2 and type(merged["n"]) is float and merged["d"] == "replaced"


def test_dicts_added_by_two_branches_are_merged() -> None:
    assert merge_parallel({}, [{"cfg": {"a": 1}}, {"cfg": {"b": 2}}]) == {"cfg": {"a": 1, "b": 2}}


def test_apply_branches_onto_a_live_state() -> None:
    state = SessionState({"x": 1, "y": {"z": 1}})
    original = state.get_all()
    one, two = state.clone(), state.clone()
    one.delete("x")
    two.update("y", lambda y: {**y, "w": 2})
    state.apply_branches(original, [one, two])
    assert state.get_all() == {"y": {"z": 1, "w": 2}}
