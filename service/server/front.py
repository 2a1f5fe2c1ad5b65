"""The buffering front: nginx reads whole requests (slow and idle clients cost it a socket, not a gunicorn thread),
started beside gunicorn and supervised with it by `agno-session serve` (its configuration: nginx_conf.py)."""

from __future__ import annotations

import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from service.core.config import ConfigError, Settings
from service.core.logs import LOGGER
from service.server.nginx_conf import render

log = logging.getLogger(LOGGER)

STARTUP_SECONDS = 60
FORWARDED_FIELDS_BYTES = 1024
POLL_SECONDS = 0.1


def nginx_binary() -> str:
    """The nginx executable (Debian puts it in /usr/sbin, which is not on every user's PATH)."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                           if os.access(p, os.X_OK)), None)
    if found is None:
        raise ConfigError("AGNO_FRONT=nginx but nginx is not installed (apt-get install nginx; in this project "
                          "`make system-packages`), or set AGNO_FRONT=none")
    return found


@dataclass
class _Child:
    """One supervised process: its pid, what it is, and its exit code once reaped."""

    name: str
    pid: int
    code: int | None = None


def _connects(family: int, address: object) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect(address)
        except OSError:
            return False
        return True


def _raise_open_files() -> None:
    """nginx holds two descriptors per proxied request: lift the soft limit to the hard one (no privilege needed)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))


class Front:
    """gunicorn (forked, on a unix socket) and nginx (in front, on the service's port), stopped together."""

    def __init__(self, settings: Settings, run_gunicorn: Callable[[Settings, str], None]) -> None:
        self.settings = settings
        self.run_gunicorn = run_gunicorn
        self.nginx = nginx_binary()
        self.runtime = Path(tempfile.mkdtemp(prefix="agno-front-"))
        self.socket = self.runtime / "gunicorn.sock"
        user = _user_name() if os.geteuid() == 0 else None
        (self.runtime / "nginx.conf").write_text(render(settings, self.runtime, str(self.socket), user))
        self.children: dict[int, _Child] = {}
        self.stopping = False

    def serve(self) -> int:
        """Run both until SIGTERM/SIGINT (0 when both stopped cleanly) or until one dies (non-zero)."""
        _raise_open_files()
        try:
            gunicorn = self._fork_gunicorn()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
            if not self._wait_until(lambda: _connects(socket.AF_UNIX, str(self.socket)), gunicorn):
                return self._shut_down("gunicorn did not start")
            nginx = self._spawn_nginx()
            host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "", "::") else self.settings.host
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            if not self._wait_until(lambda: _connects(family, (host, self.settings.port)), nginx):
                return self._shut_down("nginx did not start")
            log.info(f"session service listening on :{self.settings.port} (nginx in front of gunicorn)")
            return self._supervise(gunicorn, nginx)
        finally:
            shutil.rmtree(self.runtime, ignore_errors=True)

    def _fork_gunicorn(self) -> _Child:
        # One more proxy to trust (nginx), and room in the head for the fields nginx adds (Host, X-Forwarded-For,
        # X-Real-IP, Connection), so a client's head of exactly AGNO_MAX_HEAD_BYTES is still served.
        behind = replace(self.settings, trusted_proxies=self.settings.trusted_proxies + 1,
                         max_head_bytes=self.settings.max_head_bytes + FORWARDED_FIELDS_BYTES)
        pid = os.fork()
        if pid == 0:  # the child: gunicorn's arbiter; it never returns into the parent's code
            code = 1
            try:
                _die_with_parent(signal.SIGTERM)
                self.run_gunicorn(behind, f"unix:{self.socket}")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("gunicorn failed")
            finally:
                os._exit(code)
        child = _Child("gunicorn", pid)
        self.children[pid] = child
        return child

    def _spawn_nginx(self) -> _Child:
        proc = subprocess.Popen([self.nginx, "-p", f"{self.runtime}/", "-c", str(self.runtime / "nginx.conf"),
                                 "-e", "stderr"], start_new_session=True,  # its group: killable with its workers
                                preexec_fn=lambda: _die_with_parent(signal.SIGTERM), stderr=subprocess.PIPE)
        threading.Thread(target=_relay_nginx_log, args=(proc.stderr,), name="nginx-log", daemon=True).start()
        child = _Child("nginx", proc.pid)
        self.children[proc.pid] = child
        return child

    def _on_signal(self, signum: int, _frame: object) -> None:
        """Graceful stop, nginx first: it stops accepting and finishes what it holds; gunicorn after it."""
        if self.stopping:
            return
        self.stopping = True
        log.info("stopping: nginx finishes its requests, then gunicorn stops",
                 extra={"fields": {"signal": signal.Signals(signum).name}})
        self._signal("nginx", signal.SIGQUIT)

    def _signal(self, name: str, sig: int) -> None:
        for child in self.children.values():
            if child.name == name and child.code is None:
                try:
                    os.kill(child.pid, sig)
                except ProcessLookupError:
                    pass

    def _reap(self) -> list[_Child]:
        """Children that exited since the last call."""
        ended = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return ended
            if pid == 0:
                return ended
            child = self.children.get(pid)
            if child is not None:
                child.code = os.waitstatus_to_exitcode(status)
                ended.append(child)

    def _wait_until(self, ready: Callable[[], bool], child: _Child) -> bool:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and not self.stopping:
            self._reap()
            if child.code is not None:
                return False
            if ready():
                return True
            time.sleep(POLL_SECONDS)
        return False

    def _supervise(self, gunicorn: _Child, nginx: _Child) -> int:
        failed = ""
        while gunicorn.code is None:
            for child in self._reap():
                if child is nginx and not self.stopping:
                    failed = f"nginx exited unexpectedly with {child.code}"
                    log.error(failed)
                    self.stopping = True
                    _kill_group(nginx.pid)  # a master killed outright leaves its workers listening
                if child is nginx:
                    self._signal("gunicorn", signal.SIGTERM)
                elif child is gunicorn and nginx.code is None:
                    if not self.stopping:
                        failed = f"gunicorn exited unexpectedly with {child.code}"
                        log.error(failed)
                    self.stopping = True
                    self._signal("nginx", signal.SIGTERM)
            time.sleep(POLL_SECONDS)
        self._wait_for(nginx)
        if failed:
            return 1
        return gunicorn.code or (nginx.code or 0)

    def _wait_for(self, child: _Child, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while child.code is None and time.monotonic() < deadline:
            self._reap()
            time.sleep(POLL_SECONDS)
        if child.code is None:
            self._signal(child.name, signal.SIGKILL)
            if child.name == "nginx":
                _kill_group(child.pid)

    def _shut_down(self, why: str) -> int:
        """Start-up failed or was interrupted: stop whatever runs; non-zero unless a signal asked for it."""
        asked = self.stopping
        if not asked:
            log.error(why)
        self.stopping = True
        for name in ("nginx", "gunicorn"):
            self._signal(name, signal.SIGTERM)
        for child in list(self.children.values()):
            self._wait_for(child, 35)
        return 0 if asked else 1


_NGINX_LINE = re.compile(r"^\S+ \S+ \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$")
_NGINX_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "notice": logging.INFO, "warn": logging.WARNING,
                 "error": logging.ERROR, "crit": logging.CRITICAL, "alert": logging.CRITICAL,
                 "emerg": logging.CRITICAL}


def _relay_nginx_log(stream: IO[bytes]) -> None:
    """nginx's error log lines (its own format) as the service's JSON lines, level and message taken apart."""
    nginx_log = logging.getLogger(f"{LOGGER}.nginx")
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        parsed = _NGINX_LINE.match(line)
        level, message = (_NGINX_LEVELS.get(parsed[1], logging.WARNING), parsed[2]) if parsed else (logging.INFO, line)
        nginx_log.log(level, message)


def _kill_group(pid: int) -> None:
    """SIGKILL a process group (nginx's master and its workers); nothing when it is already gone."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _die_with_parent(sig: int) -> None:
    """Linux: the child gets `sig` if the supervising process dies without stopping it (no orphaned listeners)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(settings: Settings, run_gunicorn: Callable[[Settings, str], None]) -> int:
    """`agno-session serve` with AGNO_FRONT=nginx: the exit code of the pair."""
    return Front(settings, run_gunicorn).serve()
