"""From /proc: a process tree's CPU seconds, how busy the whole machine was, a server's workers and their
resident memory."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.procs import children, stat_fields

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds used by `root` and all its descendants, those already reaped included (cutime/cstime)."""
    kids = children()
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        fields = stat_fields(pid)
        if fields is None:
            continue
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += (utime + stime + (cutime + cstime if pid == root else 0)) / TICK
        todo.extend(kids.get(pid, []))
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy since boot (all cores, idle and iowait excluded)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICK


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process in MB (VmRSS), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def worker_pids(master: int) -> list[int]:
    """The worker processes of a pre-forking server: the master's children (gunicorn's workers, uvicorn's spawned
    ones), multiprocessing's resource tracker excepted; the master itself when it serves alone (uvicorn, 1 worker).
    """
    found = []
    for pid in children().get(master, []):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            found.append(pid)
    return sorted(found) or [master]
