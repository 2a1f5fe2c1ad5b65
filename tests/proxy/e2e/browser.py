"""Headless Debian chromium driven over its DevTools protocol on a pipe (--remote-debugging-pipe): no websocket
library, no driver; a missing chromium is a failure that names the Makefile target installing it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

import pytest

from tests.support.servers import terminate

CANDIDATES = ("chromium", "chromium-browser")


def executable() -> str:
    """chromium's path, or the test fails saying how to install it."""
    found = next((p for p in map(shutil.which, CANDIDATES) if p), None)
    if found is None:
        pytest.fail("chromium is not installed: run `make system-packages` (it installs Debian's chromium, which "
                    "the report's browser test drives headless)")
    return found


class Chromium:
    """One headless browser with one page; `evaluate` runs JavaScript in it, `click` clicks like a user."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="agno-chromium-")
        argv = [executable(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"]
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # moved above 4 first, so that placing them at 3 and 4 in the child never overwrites one with the other
        to_browser_r, from_browser_w = (_above_four(fd) for fd in (to_browser_r, from_browser_w))

        def as_fd3_and_fd4() -> None:  # in the child, before exec; close_fds then keeps 3 and 4 (pass_fds)
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(argv, pass_fds=(3, 4), preexec_fn=as_fd3_and_fd4,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        target = self.command("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.command("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def command(self, method: str, params: dict | None = None, session: str | None = None,
                timeout: float = 60.0) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer (events in between are skipped)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium exited ({self.proc.poll()}) during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
        raise TimeoutError(f"chromium did not answer {method} in {timeout}s")

    def open(self, url: str) -> None:
        self.command("Page.navigate", {"url": url}, self.session)
        for _ in range(300):
            if self.evaluate("document.readyState") == "complete":
                return
            time.sleep(0.1)
        raise TimeoutError(f"{url} did not load")

    def evaluate(self, expression: str) -> Any:
        result = self.command("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element, after scrolling it into view."""
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.command("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                      "clickCount": 1}, self.session)

    def close(self) -> None:
        terminate(self.proc)
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)


def _above_four(fd: int) -> int:
    """The same pipe end on a descriptor numbered 10 or more (the old one closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved
