"""A PostgreSQL of a test's own: embedded, in a temporary directory, gone afterwards (for tests whose writes must
not meet anyone else's)."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.embedded import embedded_server


@contextmanager
def own_postgres(prefix: str) -> Iterator[str]:
    """The libpq URI of a fresh embedded server, stopped and deleted on the way out."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")  # waits out a slow first start
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
