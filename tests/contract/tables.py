"""agno's tables in one database (sessions, runs and the per-session tables beside them): pristine snapshot,
restore, and a masked row-by-row diff."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg2
from psycopg2 import sql

from tests.contract import replay

SNAPSHOT_SCHEMA = "contract_seed"
EPOCH_IN_TEXT = re.compile(r"(?<![\d.])(1[5-9]\d{8})(?![\d.])")


# Tables agno 3.1.10 keeps beside sessions and deletes with them when they exist, under fixed names: in the
# database's schema (None here), and the AgentFS payload table in schema "fs" (PostgresDb._default_payload_table).
SIDE_TABLES = {
    "tool_results": (None, "agno_tool_results"),
    "tool_result_payloads": ("fs", "agno_fs"),
    "transcripts": (None, "agno_transcripts"),
    "compactions": (None, "agno_compactions"),
}
KEYS = {
    "sessions": ("session_id",),
    "runs": ("run_id",),
    "tool_results": ("result_id",),
    "tool_result_payloads": ("namespace", "user_id", "path"),
    "transcripts": ("framework", "project_key", "session_id", "subpath", "position"),
    "compactions": ("compaction_id",),
}


@dataclass
class Tables:
    """Where agno's tables live in one database: sessions, runs, and whichever per-session tables exist."""

    schema: str = "ai"
    sessions: str = "agno_sessions"
    runs: str = "agno_runs"
    side: list[str] = field(default_factory=list)  # labels of SIDE_TABLES that existed when the snapshot was taken

    def keyed(self) -> list[tuple[str, str, str]]:
        """(label, schema, table) in foreign-key order: sessions, runs, then the side tables present."""
        out = [("sessions", self.schema, self.sessions), ("runs", self.schema, self.runs)]
        return out + [(label, SIDE_TABLES[label][0] or self.schema, SIDE_TABLES[label][1]) for label in self.side]

    def _run(self, dsn: str, statement: sql.Composable, fetch: bool = False) -> Any:
        conn = psycopg2.connect(dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchone()[0] if fetch else None
        finally:
            conn.close()

    def snapshot(self, dsn: str) -> None:
        """Copy the seeded tables aside: the state every write starts from."""
        present = self._run(dsn, sql.SQL("SELECT ARRAY[{}]").format(sql.SQL(", ").join(
            sql.SQL("to_regclass({}) IS NOT NULL").format(sql.Literal(f'"{schema or self.schema}"."{table}"'))
            for schema, table in SIDE_TABLES.values())), fetch=True)
        self.side = [label for label, there in zip(SIDE_TABLES, present, strict=True) if there]
        parts = [sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SNAPSHOT_SCHEMA)),
                 sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SNAPSHOT_SCHEMA))]
        for _, schema, table in self.keyed():
            parts.append(sql.SQL("CREATE TABLE {} AS TABLE {}").format(
                sql.Identifier(SNAPSHOT_SCHEMA, table), sql.Identifier(schema, table)))
        self._run(dsn, sql.SQL("; ").join(parts))

    def restore(self, dsn: str) -> None:
        """Put every table back to the snapshot in one transaction (row deletes: pooled connections stay valid)."""
        tables = self.keyed()
        parts = [sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table))
                 for _, schema, table in reversed(tables)]
        parts += [sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
            sql.Identifier(schema, table), sql.Identifier(SNAPSHOT_SCHEMA, table)) for _, schema, table in tables]
        self._run(dsn, sql.SQL("; ").join(parts))

    def dump(self, dsn: str) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table; JSON columns as [jsonb_typeof (None = SQL NULL), text]."""
        parts = []
        for label, schema, table in self.keyed():
            columns = self._run(dsn, sql.SQL(
                "SELECT jsonb_agg(jsonb_build_array(column_name, data_type) ORDER BY ordinal_position) "
                "FROM information_schema.columns WHERE table_schema = {} AND table_name = {}").format(
                sql.Literal(schema), sql.Literal(table)), fetch=True)
            fields = []
            for name, data_type in columns:
                column = sql.Identifier("t", name)
                value = (sql.SQL("jsonb_build_array(jsonb_typeof({c}::jsonb), {c}::text)").format(c=column)
                         if data_type in ("json", "jsonb") else sql.SQL("to_jsonb({})").format(column))
                fields.append(sql.SQL("{}, {}").format(sql.Literal(name), value))
            order = sql.SQL(", ").join(sql.Identifier("t", key) for key in KEYS[label])
            parts.append(sql.SQL("{label}, (SELECT coalesce(jsonb_agg(jsonb_build_object({fields}) ORDER BY {order}), "
                                 "'[]') FROM {table} t)").format(
                label=sql.Literal(label), fields=sql.SQL(", ").join(fields), order=order,
                table=sql.Identifier(schema, table)))
        return self._run(dsn, sql.SQL("SELECT jsonb_build_object({})").format(sql.SQL(", ").join(parts)), fetch=True)


def _mask_text(text: str, low: float, high: float) -> str:
    """uuid4s and "now" (ISO or epoch seconds inside JSON text) become their shape."""
    def iso(match: re.Match) -> str:
        stamp = re.sub(r"(Z|[+-]00:00)$", "", match.group(0))
        try:
            moment = datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            return match.group(0)
        return "<now-iso>" if low <= moment <= high else match.group(0)

    text = replay.UUID4.sub("<uuid4>", text)
    text = replay.ISO.sub(iso, text)
    return EPOCH_IN_TEXT.sub(lambda m: "<now-epoch>" if low <= int(m.group(1)) <= high else m.group(1), text)


def _mask_row(row: dict[str, Any], low: float, high: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, list) and len(value) == 2:  # [typeof, text] of a JSON column
            out[name] = [value[0], None if value[1] is None else _mask_text(value[1], low, high)]
        elif isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            out[name] = "<now-epoch>"
        elif isinstance(value, str):
            out[name] = _mask_text(value, low, high)
        else:
            out[name] = value
    return out


def _show(value: Any, limit: int = 300) -> str:
    if isinstance(value, list) and len(value) == 2:
        if value[0] is None:
            return "SQL NULL"
        text = value[1] or ""
        return f"jsonb {value[0]}: " + (text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit})")
    return "SQL NULL" if value is None else json.dumps(value, ensure_ascii=False)


def _key(label: str, row: dict[str, Any]) -> str:
    return "/".join(str(row[column]) for column in KEYS[label])


def compare_rows(a: dict, b: dict, low: float, high: float) -> list[str]:
    """Every row/column difference between two dumps after masking volatile values; [] when equal."""
    problems = []
    for label in dict.fromkeys([*a, *b]):
        a_rows = {_key(label, r): r for r in (_mask_row(x, low, high) for x in a.get(label, []))}
        b_rows = {_key(label, r): r for r in (_mask_row(x, low, high) for x in b.get(label, []))}
        for ident in sorted(set(a_rows) | set(b_rows)):
            row_a, row_b = a_rows.get(ident), b_rows.get(ident)
            if row_a is None or row_b is None:
                problems.append(f"row {label}[{ident}]: only in {'A' if row_b is None else 'B'}")
                continue
            for column in dict.fromkeys([*row_a, *row_b]):
                va, vb = row_a.get(column, "<no column>"), row_b.get(column, "<no column>")
                if va == vb:
                    continue
                line = f"row {label}[{ident}].{column}:\n    A: {_show(va)}\n    B: {_show(vb)}"
                if isinstance(va, list) and isinstance(vb, list) and va[1] and vb[1] and va[0] == vb[0]:
                    try:
                        found = replay.first_difference(replay._load(va[1].encode()), replay._load(vb[1].encode()))
                    except ValueError:
                        found = None
                    if found:
                        line += f"\n    first JSON difference at {found}"
                problems.append(line)
    return problems
