"""The files in the report directory: differences.ndjson (appended), summary.json and report.html (replaced)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class ReportDir:
    """Writes atomically (temporary file, then rename) so a reader never sees half a summary."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ndjson_path = self.dir / "differences.ndjson"
        self._ndjson = self.ndjson_path.open("a", encoding="utf-8")

    def record(self, entry: dict[str, Any]) -> None:
        """One differing pair, one line, flushed at once so `tail -f` and tests see it."""
        self._ndjson.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self._ndjson.flush()

    def write_summary(self, summary: dict[str, Any], html: str) -> None:
        """summary.json and report.html, each replaced whole."""
        _replace(self.dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        _replace(self.dir / "report.html", html)

    def close(self) -> None:
        self._ndjson.close()


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
