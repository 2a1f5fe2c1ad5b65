"""A client of tests/contract/agno_writer.py for contract tests: agno 3.1.10's own PostgresDb writes, one committed
write per call, answered before the call returns (shared by the tests that let agno write between two requests)."""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path

import pytest

from tests.contract.harness import REPO, Database

WRITER = REPO / "tests" / "contract" / "agno_writer.py"
T0 = 1767225600  # the seed's base time
ANSWER_WITHIN = 120  # seconds: a stuck writer fails the test instead of hanging CI (a write takes milliseconds)


def reference_python() -> str:
    """The reference virtualenv's python (AgentOS and agno 3.1.10), or the test fails saying how to get it."""
    python = os.environ.get("AGNO_REFERENCE_PYTHON")
    if not python:
        pytest.fail("AGNO_REFERENCE_PYTHON is not set: run `make contract-test`, which installs the reference "
                    "AgentOS into its own virtualenv and points the tests at it")
    return python


class AgnoWriter:
    """The agno_writer.py process: each call is one committed write through agno's API, answered before it returns."""

    def __init__(self, python: str, db: Database, log: Path) -> None:
        self._log = log.open("w", encoding="utf-8")
        self._proc = subprocess.Popen(
            [python, str(WRITER), "--dsn", db.url, "--schema", db.tables.schema], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, encoding="utf-8",
            env={**os.environ, "PYTHONPATH": ""})
        self.log = log

    def __call__(self, op: str, **fields: object) -> dict:
        """Send one command and wait for its answer; a refused write or a dead writer fails the test."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._proc.stdin.flush()
        ready, _, _ = select.select([self._proc.stdout], [], [], ANSWER_WITHIN)  # one answer per command: no
        if not ready:  # line is left buffered between calls, so the pipe itself says when the next one arrives
            self._proc.kill()
            pytest.fail(f"agno_writer.py gave no answer to {op} within {ANSWER_WITHIN} s:\n"
                        f"{self.log.read_text(encoding='utf-8')}")
        line = self._proc.stdout.readline()
        assert line, f"agno_writer.py exited ({self._proc.poll()}):\n{self.log.read_text(encoding='utf-8')}"
        answer = json.loads(line)
        assert answer.pop("ok"), f"agno refused {op} {fields}: {answer['error']}"
        return answer

    def close(self) -> None:
        """End of input: the writer finishes its loop and exits."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._log.close()
