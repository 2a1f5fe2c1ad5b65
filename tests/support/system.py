"""Programs the tests run that come from the system, not from PyPI: found, or a failure that names the Makefile
target installing them (`make system-packages`), never an install from inside a test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

INSTALL = "make system-packages"


def system_binary(name: str, package: str) -> str:
    """The path of `name` (also looked for in the sbin directories Debian puts servers in), or the test fails."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    found = shutil.which(name, path=search)
    if found is None:
        pytest.fail(f"{name} is not installed: `{INSTALL}` installs it (Debian package {package})", pytrace=False)
    return found


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries the distribution installed (Debian: /usr/lib/postgresql/<v>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail(f"PostgreSQL's server binaries are not installed: `{INSTALL}` installs them (Debian package "
                    "postgresql)", pytrace=False)
    return found[-1].parent
