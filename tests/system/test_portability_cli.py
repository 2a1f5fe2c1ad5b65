"""`agno-session export | import | copy` as an operator runs them: subprocesses against a real PostgreSQL, a gzip
bundle through a pipe, a truncated one refused by its line with nothing written, and a move between two databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.rows import Rows

CLI = str(Path(sys.executable).parent / "agno-session")


def run(env: dict[str, str], *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGNO_")}
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, env={**clean, **env}, timeout=120)


def test_export_pipe_import_and_a_truncated_bundle(pg_dsn: str, make_app) -> None:
    two = {"AGNO_SESSION_DSN_MAP": json.dumps({"a": pg_dsn, "b": {"dsn": pg_dsn, "schema": "ai2"}})}
    assert run(two, "migrate").returncode == 0
    rows = Rows(pg_dsn)
    try:
        for sid in ("s1", "s2", "s3"):
            rows.session(sid, user_id="u1", session_data={"session_name": sid})
            rows.run(sid, {"run_id": f"{sid}-r", "agent_id": "a"}, user_id="u1")
        exported = run(two, "export", "--db-id", "a", "--gzip", "--user-id", "u1")
        assert exported.returncode == 0 and exported.stdout[:2] == b"\x1f\x8b"
        assert b"exported 3 sessions from a (3 runs)" in exported.stderr
        plain = run(two, "export", "--db-id", "a").stdout
        cut = b"".join(plain.splitlines(keepends=True)[:3])  # header and two sessions: no trailer
        refused = run(two, "import", "--db-id", "b", stdin=cut)
        assert refused.returncode == 1
        assert b"bundle refused, nothing written: line 4: the bundle ends without its trailer" in refused.stderr
        assert rows.execute("SELECT count(*) FROM ai2.agno_sessions") == [(0,)]
        dry = run(two, "import", "--db-id", "b", "--dry-run", stdin=exported.stdout)
        assert dry.returncode == 0 and b"dry run, nothing written: 3 created" in dry.stderr
        done = run(two, "import", "--db-id", "b", stdin=exported.stdout)
        assert done.returncode == 0 and b"3 created, 0 replaced, 0 skipped, 0 failed" in done.stderr
        same = "SELECT t::text FROM {}.agno_{} t ORDER BY 1"
        for table in ("sessions", "runs"):
            assert rows.execute(same.format("ai2", table)) == rows.execute(same.format("ai", table))
        failed = run(two, "import", "--db-id", "b", "--on-conflict", "fail", stdin=exported.stdout)
        assert failed.returncode == 1 and b"failed: line 2: s1: session 's1' already exists" in failed.stderr
        rows.execute("DELETE FROM ai2.agno_sessions WHERE session_id = 's2'")
        moved = run(two, "copy", "--from-db", "a", "--to-db", "b", "--move")
        assert moved.returncode == 0, moved.stderr
        assert b"moved a -> b: 1 copied, 2 already there, 3 removed from a, 0 failed" in moved.stderr
        assert rows.execute("SELECT count(*) FROM ai.agno_sessions") == [(0,)]
    finally:
        rows.close()
