"""bench.trigger_instructions sets its counts beside the timed p95s of docs/performance.md: it must find every one."""

from bench.trigger_instructions import WRITES, documented_p95


def test_every_counted_write_finds_its_timed_p95_without_the_triggers():
    found = documented_p95()
    assert {w.name for w in WRITES} <= found.keys()
    assert found["PATCH /sessions/{id}"] == 54.93  # the change triggers' table, not the hold guard's below it
    assert found["DELETE /sessions/{id}"] == 47.21
