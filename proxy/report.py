"""The report on disk: one directory per mode run (`<report_dir>/<mode>-<UTC time>/`), each with differences.ndjson
(appended), summary.json and report.html (replaced, the page rendered here); `<report_dir>/runs.json` lists them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from proxy.tally import REASONS, Tally

_ENV = Environment(loader=PackageLoader("proxy", "templates"), autoescape=select_autoescape(["html", "j2"]))
_ENV.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)


class ReportDir:
    """Writes atomically (temporary file, then rename) so a reader never sees half a summary."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ndjson_path = self.dir / "differences.ndjson"

    def record(self, entry: dict[str, Any]) -> None:
        """One differing pair, one line, written at once so `tail -f` and tests see it; a comparison that ends
        after its mode was switched away still lands in its own run's file."""
        with self.ndjson_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def write_summary(self, summary: dict[str, Any], html: str) -> None:
        """summary.json and report.html, each replaced whole."""
        _replace(self.dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        _replace(self.dir / "report.html", html)


def new_run_dir(base: str | Path, mode: str, now: float | None = None) -> ReportDir:
    """A fresh directory for one mode run, named so that `ls` lists runs in the order they started."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    root = Path(base)
    candidate, n = root / f"{mode}-{stamp}", 1
    while candidate.exists():
        n += 1
        candidate = root / f"{mode}-{stamp}-{n}"
    return ReportDir(candidate)


def write_index(base: str | Path, runs: list[dict[str, Any]]) -> None:
    """`<report_dir>/runs.json`: every run of this proxy process, oldest first, the current one last."""
    root = Path(base)
    root.mkdir(parents=True, exist_ok=True)
    _replace(root / "runs.json", json.dumps({"runs": runs}, indent=2))


def render(tally: Tally, summary: dict[str, Any]) -> str:
    """The whole page; autoescaped, so bodies from either side cannot inject markup."""
    routes = {name: r.as_dict(with_examples=True) for name, r in sorted(tally.routes.items())}
    return _ENV.get_template("report.html.j2").render(summary=summary, routes=routes, reasons=REASONS,
                                                      causes=tally.sorted_causes(with_examples=True))


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
