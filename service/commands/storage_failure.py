"""A console command's database failure, said the same way by every command: one line on stderr, exit code 1."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from service.storage.errors import StorageError


def exit_on_storage_error(command: str, action: Callable[[], int], err: TextIO | None = None) -> int:
    """`action`'s exit code; a StorageError becomes `agno-session <command>: <db_id>: <message>` on `err` (default:
    stderr at the time) and 1."""
    try:
        return action()
    except StorageError as exc:
        print(f"agno-session {command}: {exc.db_id}: {exc.message}", file=err or sys.stderr)
        return 1
