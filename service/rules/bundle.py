"""The session bundle (extension `portability`): versioned NDJSON lines that carry sessions with every row agno keeps
beside them, verbatim, and the checks that refuse a truncated or tampered bundle by the line (docs/bundle.md).

Cells are PostgreSQL's own text form of each column (None for SQL NULL), so a jsonb `null` ("null") and a NULL stay
apart and every type, including columns agno adds later, goes back in through its input function unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

FORMAT = "agno-session-bundle"
VERSION = 1
AGNO_VERSION = "3.1.10"  # the table layout the rows are in: agno's PostgresDb of this release
# Every table a session's rows come from, in the order an import writes them (the session before what refers to it).
TABLES = ("sessions", "runs", "tool_results", "tool_result_payloads", "transcripts", "compactions")
RELATED = TABLES[2:]  # agno's per-session tables beside sessions and runs; absent where agno never created them
Cells = dict[str, "str | None"]


class BundleError(Exception):
    """A bundle that cannot be imported: `line` (1-based) names where it went wrong."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def digest(raw: bytes) -> str:
    """The chain's checksum of one line's bytes (newline included)."""
    return hashlib.sha256(raw).hexdigest()


def encode(line: dict[str, Any]) -> bytes:
    """One NDJSON line."""
    return orjson.dumps(line) + b"\n"


def header(db_id: str, schema: str, tables: dict[str, str], columns: dict[str, dict[str, str]], now: int,
           filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The first line: what the rows are and where they came from (`columns`: table → column → SQL type)."""
    return {"kind": "header", "format": FORMAT, "version": VERSION, "db_id": db_id, "schema": schema,
            "tables": tables, "columns": columns, "agno_version": AGNO_VERSION, "created_at": now,
            "filters": filters or {}}


@dataclass
class Writer:
    """Chains each line to the one before (`prev`: the checksum of its bytes) and counts what it wrote, for the
    trailer (`sha256` of every byte before it)."""

    _prev: str = ""
    _whole: Any = field(default_factory=hashlib.sha256)
    sessions: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))

    def line(self, line: dict[str, Any]) -> bytes:
        """The bytes of `line`, chained (the header is not: nothing comes before it)."""
        if self._prev:
            line = {**line, "prev": self._prev}
        raw = encode(line)
        self._prev = digest(raw)
        self._whole.update(raw)
        if line["kind"] == "session":
            self.sessions += 1
            for table, rows in line["rows"].items():
                self.rows[table] += len(rows)
        return raw

    def session(self, session_id: str, rows: dict[str, list[Cells]]) -> bytes:
        """One session's line: its row, its runs and its related rows, table by table."""
        return self.line({"kind": "session", "session_id": session_id,
                          "rows": {t: rows.get(t, []) for t in TABLES}})

    def trailer(self) -> bytes:
        """The last line: counts and the checksum of everything before it."""
        return self.line({"kind": "trailer", "sessions": self.sessions, "rows": dict(self.rows),
                          "sha256": self._whole.hexdigest()})


@dataclass(frozen=True)
class SessionEntry:
    """One session line as read: where it was, its id, its rows by table."""

    line: int
    session_id: str
    rows: dict[str, list[Cells]]


def read(lines: Iterable[bytes]) -> Iterator[dict[str, Any] | SessionEntry]:
    """The header (a dict), then each session, checking the chain and shapes as it goes and the trailer at the end;
    raises BundleError naming the line. Consume it to the end before trusting what it yielded."""
    number, prev, whole, head = 0, "", hashlib.sha256(), None
    sessions, rows = 0, dict.fromkeys(TABLES, 0)
    trailer_seen = False
    for raw in lines:
        number += 1
        if trailer_seen:
            raise BundleError(number, "a line after the trailer")
        if not raw.endswith(b"\n"):
            raise BundleError(number, "the line is cut off (no newline at its end): the bundle is truncated")
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BundleError(number, "not a JSON line") from None
        if not isinstance(line, dict):
            raise BundleError(number, "not a JSON object")
        kind = line.get("kind")
        if head is None:
            head = _checked_header(number, line)
            yield head
        else:
            if line.get("prev") != prev:
                raise BundleError(number, f"the checksum it records of line {number - 1} differs: line {number - 1} "
                                          "was changed, or lines were removed or added before this one")
            if kind == "session":
                entry = _checked_session(number, line)
                sessions += 1
                for table, found in entry.rows.items():
                    rows[table] += len(found)
                yield entry
            elif kind == "trailer":
                _check_trailer(number, line, sessions, rows, whole.hexdigest())
                trailer_seen = True
            else:
                raise BundleError(number, f"unknown line kind {kind!r}")
        prev = digest(raw)
        whole.update(raw)
    if head is None:
        raise BundleError(1, "the bundle is empty")
    if not trailer_seen:
        raise BundleError(number + 1, "the bundle ends without its trailer: it is truncated")


def _checked_header(number: int, line: dict[str, Any]) -> dict[str, Any]:
    """The header, if it is one this reader understands."""
    if line.get("kind") != "header" or line.get("format") != FORMAT:
        raise BundleError(number, f"not an {FORMAT} (the first line must be its header)")
    if line.get("version") != VERSION:
        raise BundleError(number, f"bundle version {line.get('version')!r}; this service reads version {VERSION}")
    if not isinstance(line.get("columns"), dict):
        raise BundleError(number, "the header has no `columns`")
    return line


def _checked_session(number: int, line: dict[str, Any]) -> SessionEntry:
    """A session line's id and rows, each row a map of column to text or null, the session row's id its own."""
    session_id, rows = line.get("session_id"), line.get("rows")
    if not isinstance(session_id, str) or not session_id or not isinstance(rows, dict):
        raise BundleError(number, "a session line needs `session_id` and `rows`")
    unknown = set(rows) - set(TABLES)
    if unknown:
        raise BundleError(number, f"unknown tables {sorted(unknown)}")
    for table, found in rows.items():
        if not isinstance(found, list) or not all(_is_cells(r) for r in found):
            raise BundleError(number, f"`rows.{table}` must be a list of objects of strings or nulls")
    own = rows.get("sessions") or []
    if len(own) != 1 or own[0].get("session_id") != session_id:
        raise BundleError(number, "`rows.sessions` must hold exactly the session's own row")
    return SessionEntry(number, session_id, {t: rows.get(t, []) for t in TABLES})


def _is_cells(row: Any) -> bool:
    """A row: column names to text (None: SQL NULL)."""
    return isinstance(row, dict) and all(v is None or isinstance(v, str) for v in row.values())


def _check_trailer(number: int, line: dict[str, Any], sessions: int, rows: dict[str, int], whole: str) -> None:
    """The trailer's counts and checksum against what was read."""
    if line.get("sessions") != sessions or line.get("rows") != rows:
        raise BundleError(number, f"the trailer counts {line.get('sessions')!r} sessions and {line.get('rows')!r} "
                                  f"rows; the bundle holds {sessions} and {rows}: lines are missing or added")
    if line.get("sha256") != whole:
        raise BundleError(number, "the checksum of the lines before the trailer differs: the bundle was changed")


def owned_by(rows: dict[str, list[Cells]], user_id: str) -> dict[str, list[Cells]]:
    """The rows with every owner replaced by `user_id` (a non-admin caller imports only what it will own); a payload
    in the shared partition ("") stays shared."""
    return {table: [_owned(row, user_id) for row in found] for table, found in rows.items()}


def _owned(row: Cells, user_id: str) -> Cells:
    """One row re-owned: its `user_id` cell, unless the table has none or the row is in the shared partition."""
    if "user_id" not in row or row["user_id"] == "":
        return row
    return {**row, "user_id": user_id}
