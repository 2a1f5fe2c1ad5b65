"""Reading the locks in requirements/ (uv's hashed requirement files): shared by their test and the image check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name


@dataclass(frozen=True)
class Locked:
    """One pinned entry of a lock: a name, its exact version, the marker it applies under, its hashes and sources."""

    name: NormalizedName
    version: str
    marker: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]


def read_lock(path: Path) -> list[Locked]:
    """Parse a `uv pip compile --generate-hashes` file: requirement lines with hashes, then `# via` annotations."""
    entries: list[Locked] = []
    current: dict | None = None
    in_via = False
    for line in re.sub(r"\\\n", " ", path.read_text()).splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            if current:
                entries.append(Locked(**current))
            hashes = tuple(re.findall(r"--hash=(\S+)", stripped))
            req = Requirement(re.sub(r"\s--hash=\S+", "", stripped).strip())
            pins = [s for s in req.specifier if s.operator == "=="]
            assert len(pins) == 1 and len(req.specifier) == 1, f"{path.name}: {req} is not pinned with =="
            current = dict(name=canonicalize_name(req.name), version=pins[0].version,
                           marker=str(req.marker or ""), hashes=hashes, via=())
            in_via = False
            continue
        if current is None:  # the header
            continue
        comment = stripped.lstrip("#").strip()
        if comment.startswith("via"):
            rest = comment[3:].strip()
            current["via"] += (rest,) if rest else ()
            in_via = True
        elif in_via and line.startswith("    #   "):
            current["via"] += (comment,)
    if current:
        entries.append(Locked(**current))
    return entries


def installed_on(lock: list[Locked], python: str) -> set[tuple[str, str]]:
    """The (name, version) pairs pip installs from a lock on Linux/CPython at the given Python version."""
    environment = {"python_version": ".".join(python.split(".")[:2]), "python_full_version": python,
                   "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    return {(e.name, e.version) for e in lock if not e.marker or Marker(e.marker).evaluate(environment)}
