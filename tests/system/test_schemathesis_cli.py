"""Schemathesis's CLI against the running gunicorn server (python -m scripts.fuzz, CI profile): zero failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_run_against_gunicorn_has_no_failures(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "scripts.fuzz", "--report-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):  # every phase ran, and passed
        assert f"✅  {phase}" in done.stdout, done.stdout[-3000:]
    assert list(tmp_path.glob("junit-*.xml")), "no JUnit report written"
