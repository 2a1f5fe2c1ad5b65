"""Where bundles are written to and read from: a file or the standard streams, gzip-compressed or not (told by the
file's first bytes when reading), read twice when imported (checked whole, then written) in constant memory."""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from service.rules.bundle import BundleError

GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def output(path: str | None, compress: bool) -> Iterator[BinaryIO]:
    """The bundle's destination: FILE, or stdout for '-' or none; gzip with `compress` or a `.gz` name."""
    compress = compress or bool(path and path.endswith(".gz"))
    if path in (None, "-"):
        target: BinaryIO = sys.stdout.buffer
        if compress:
            with gzip.GzipFile(fileobj=target, mode="wb") as zipped:
                yield zipped  # type: ignore[misc]
        else:
            yield target
        target.flush()
        return
    with open(path, "wb") as raw:
        if compress:
            with gzip.GzipFile(fileobj=raw, mode="wb") as zipped:
                yield zipped  # type: ignore[misc]
        else:
            yield raw


@contextmanager
def readable(path: str | None) -> Iterator[Path]:
    """A file the bundle can be read from as often as needed: FILE itself, or stdin spooled to a temporary file."""
    if path not in (None, "-"):
        yield Path(path)
        return
    with tempfile.NamedTemporaryFile(prefix="agno-bundle-") as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool, 1024 * 1024)
        spool.flush()
        yield Path(spool.name)


def lines(path: Path) -> Iterator[bytes]:
    """The bundle's lines (newline kept), decompressed when it is gzip; a cut-off gzip stream names the line."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        source: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
        number = 0
        try:
            for line in source:
                number += 1
                yield line
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise BundleError(number + 1, f"the gzip stream is damaged or cut off ({exc})") from None
