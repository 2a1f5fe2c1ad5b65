"""`make demo` run without a terminal: it starts, answers one request through the proxy, and Ctrl-C (SIGINT to its
process group, as a terminal sends it) leaves none of its processes behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.contract.harness import REPO
from tests.support.procs import children


def descendants(root: int) -> set[int]:
    tree, found, todo = children(), set(), [root]
    while todo:
        for kid in tree.get(todo.pop(), []):
            if kid not in found:
                found.add(kid)
                todo.append(kid)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_demo_starts_answers_through_the_proxy_and_stops_everything_on_ctrl_c(workdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "MAKEFLAGS"))}
    env["AGNO_REFERENCE_PYTHON"] = os.environ["AGNO_REFERENCE_PYTHON"]
    # Started with SIGINT ignored, as a background job of a non-interactive shell starts it: Ctrl-C must still mean
    # "stop everything", not "a child exited on its own".
    demo = subprocess.Popen([sys.executable, "-m", "scripts.demo", "--report-dir", str(workdir / "demo-report")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    output = []
    try:
        for line in demo.stdout:
            output.append(line)
            if line.startswith("Try:") or demo.poll() is not None:
                break
        text = "".join(output)
        assert "demo: ready" in text, text
        proxy = re.search(r"proxy\s+(http://127\.0\.0\.1:\d+)", text).group(1)
        pids = {int(p) for p in re.findall(r"=(\d+)", re.search(r"pids\s+(.*)", text).group(1))}
        with urllib.request.urlopen(f"{proxy}/sessions?type=agent&limit=3", timeout=60) as response:
            assert response.status == 200 and b'"data"' in response.read()
        started = pids | descendants(demo.pid)
        assert len(started) >= 5, text  # AgentOS, agno-session and its worker, make, mitmdump, postgres
        os.killpg(demo.pid, signal.SIGINT)
        rest, _ = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert demo.returncode == 0, "".join(output) + rest
    assert "demo: stopped" in rest
    assert [pid for pid in started if alive(pid)] == [], "".join(output) + rest
    assert (workdir / "demo-report" / "runs.json").exists()  # the proxy's run index, and the shadow run's report
    assert [p.parent.name.split("-")[0] for p in (workdir / "demo-report").glob("*/summary.json")] == ["shadow"]
