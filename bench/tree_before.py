"""The tree as it was at a git ref, checked out beside this one for a before/after comparison."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .sidebyside import REPO


@contextmanager
def tree_before(ref: str, prefix: str) -> Iterator[tuple[Path, Path]]:
    """A temporary git worktree of `ref` and the temporary directory holding it (for logs beside it); both are
    removed on the way out, whatever happened."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), ref], cwd=REPO, check=True,
                       capture_output=True)
        try:
            yield before, Path(tmp)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=REPO, check=False,
                           capture_output=True)
