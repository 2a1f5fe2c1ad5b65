"""`make demo`: the cut-over tried locally. PostgreSQL, the reference AgentOS with agno's own seed data,
agno-session on the same tables and the shadow proxy (`make shadow`, preflight included) in front; prints the
URLs and requests to try, and stops everything on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.contract.harness import REPO, Cluster, Database
from tests.contract.tables import Tables
from tests.support.servers import Server, free_port

# The demo target has made these already; `make shadow` must not rebuild the shared virtualenvs.
MADE = ["-o", ".venv/.installed", "-o", ".venv-proxy/.installed"]


class Demo(Cluster):
    """The contract harness's pieces, once: PostgreSQL, AgentOS, the seed, agno-session, then the proxy."""

    def __init__(self, reference_python: str, report_dir: Path) -> None:
        super().__init__(reference_python)
        self.report_dir = report_dir
        self.proxy: subprocess.Popen | None = None
        self.proxy_url = self.control_url = ""

    def _start(self) -> None:
        step("PostgreSQL (embedded)")
        socket_dir = self._start_postgres()
        self.db = Database(f"postgresql+psycopg://postgres@/contract?host={socket_dir}", Tables())
        step("AgentOS 3.1.10 (tests/contract/reference_app.py)")
        self.agentos = self._reference("demo", [self.db], {})
        self.agentos.wait_healthy()
        step("agno's seed data, written through agno's own API (tests/contract/seed.py)")
        self._seed(self.db)
        step("agno-session on the same tables, given AgentOS's exact URL (same db_id)")
        self.sessions = self._spawn("agno-session", [sys.executable, "-m", "service.cli", "serve"], {
            "AGNO_PG_DSN": self.db.url, "AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_SERVICE_PORT": "{port}",
            "AGNO_WORKERS": "1", "AGNO_THREADS": "4"})
        self.sessions.wait_healthy()
        step("the shadow proxy: make shadow (preflight first)")
        self._start_proxy()

    def _start_proxy(self) -> None:
        port, control = free_port(), free_port()
        self.proxy_url, self.control_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{control}"
        argv = [os.environ.get("MAKE", "make"), "--no-print-directory", *MADE, "shadow",
                f"AGENTOS_URL={self.agentos.url}", f"SESSIONS_URL={self.sessions.url}", "SHADOW_MODE=shadow",
                f"SHADOW_PORT={port}", f"SHADOW_CONTROL_PORT={control}", f"SHADOW_REPORT_DIR={self.report_dir}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "MAKEFLAGS"))}
        log = self.workdir / "proxy.log"
        with log.open("wb") as out:  # its own process group: make, the preflight and mitmdump stop together
            self.proxy = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        Server("proxy", self.control_url, self.proxy, log).wait_healthy("/summary", timeout=180)

    def stop(self) -> None:
        """The proxy first (SIGINT: mitmdump writes its report one last time), then the harness's servers and
        PostgreSQL."""
        if self.proxy is not None and self.proxy.poll() is None:
            os.killpg(self.proxy.pid, signal.SIGINT)
            try:
                self.proxy.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proxy.pid, signal.SIGKILL)
                self.proxy.wait()
        super().stop()
        self.servers, self._pg = [], None  # stopping twice (a failed start, then the finally) is harmless

    def pids(self) -> dict[str, int]:
        """Every process the demo started, for whoever wants to see them gone."""
        found = {server.name: server.proc.pid for server in self.servers}
        if self.proxy is not None:
            found["proxy"] = self.proxy.pid
        if self._pg is not None:
            found["postgres"] = self._pg.get_pid()
        return found


def step(text: str) -> None:
    print(f"demo: starting {text} …", flush=True)


def instructions(demo: Demo) -> str:
    """The URLs and a few requests to send."""
    db_id, proxy = demo.db.db_id, demo.proxy_url
    preflight = [line for line in (demo.workdir / "proxy.log").read_text().splitlines()
                 if line.startswith(("same:", "DIFFERS:", "note:", "preflight:"))]
    return "\n".join(f"  {line}" for line in ["make shadow's preflight:", *preflight]) + f"""
demo: ready. Ctrl-C stops everything.
  AgentOS      {demo.agentos.url}   (GET /config names db_id {db_id})
  agno-session {demo.sessions.url}
  proxy        {proxy}   (mode shadow: AgentOS answers, agno-session is compared)
  control      {demo.control_url}   report: {demo.control_url}/report (written to {demo.report_dir}/shadow-<time>/)
  pids         {' '.join(f'{k}={v}' for k, v in demo.pids().items())}
Try:
  curl -s '{proxy}/sessions?type=agent&limit=3' | jq .
  curl -s '{proxy}/sessions?db_id={db_id}&type=team' | jq '.meta'
  curl -s '{proxy}/sessions/agent-sess-1?db_id={db_id}' | jq '.chat_history | length'
  curl -s '{demo.sessions.url}/sessions?db_id={db_id}&type=workflow' | jq '.data[].session_name'
  curl -s {demo.control_url}/summary | jq '{{compared, identical, declared, different, not_compared}}'
""".rstrip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", default="reports/demo", help="where the proxy writes its report")
    args = parser.parse_args()
    reference = os.environ.get("AGNO_REFERENCE_PYTHON")
    if not reference:
        print("demo: AGNO_REFERENCE_PYTHON is not set: run `make demo`", file=sys.stderr)
        return 2
    stopping: list[int] = []

    def stop_on(signum: int, _frame: object) -> None:
        stopping.append(signum)
        raise KeyboardInterrupt

    # Ctrl-C reaches every process of the group at once; the demo must take it as 'stop' even when it was started
    # with SIGINT ignored (a background job of a non-interactive shell), or it would see its children exit first.
    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGINT, stop_on)
    demo = Demo(reference, Path(args.report_dir).resolve())
    try:
        demo.start()
        print(instructions(demo), flush=True)
        while all(p.poll() is None for p in [*(s.proc for s in demo.servers), demo.proxy] if p is not None):
            time.sleep(0.5)
        print("demo: a process exited on its own; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave half of it running
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("demo: stopping proxy, agno-session, AgentOS, PostgreSQL …", flush=True)
        demo.stop()
        print("demo: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
