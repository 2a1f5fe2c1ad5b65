"""The sessions and runs tables of one database: pristine snapshot, restore, and a masked row-by-row diff."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psycopg2
from psycopg2 import sql

from tests.contract import replay

SNAPSHOT_SCHEMA = "contract_seed"
EPOCH_IN_TEXT = re.compile(r"(?<![\d.])(1[5-9]\d{8})(?![\d.])")


@dataclass
class Tables:
    """Where agno's two tables live in one database."""

    schema: str = "ai"
    sessions: str = "agno_sessions"
    runs: str = "agno_runs"

    def keyed(self) -> list[tuple[str, str, str]]:
        """(label, table, primary key) in foreign-key order."""
        return [("sessions", self.sessions, "session_id"), ("runs", self.runs, "run_id")]

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
        parts = [sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SNAPSHOT_SCHEMA)),
                 sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SNAPSHOT_SCHEMA))]
        for _, table, _ in self.keyed():
            parts.append(sql.SQL("CREATE TABLE {} AS TABLE {}").format(
                sql.Identifier(SNAPSHOT_SCHEMA, table), sql.Identifier(self.schema, table)))
        self._run(dsn, sql.SQL("; ").join(parts))

    def restore(self, dsn: str) -> None:
        """Put both tables back to the snapshot in one transaction (row deletes: pooled connections stay valid)."""
        (_, sessions, _), (_, runs, _) = self.keyed()
        live_s, live_r = sql.Identifier(self.schema, sessions), sql.Identifier(self.schema, runs)
        statement = sql.SQL("DELETE FROM {r}; DELETE FROM {s}; INSERT INTO {s} SELECT * FROM {snap_s}; "
                            "INSERT INTO {r} SELECT * FROM {snap_r}").format(
            r=live_r, s=live_s, snap_s=sql.Identifier(SNAPSHOT_SCHEMA, sessions),
            snap_r=sql.Identifier(SNAPSHOT_SCHEMA, runs))
        self._run(dsn, statement)

    def dump(self, dsn: str) -> dict[str, list[dict[str, Any]]]:
        """Every row of both tables; JSON columns as [jsonb_typeof (None = SQL NULL), text]."""
        parts = []
        for label, table, key in self.keyed():
            columns = self._run(dsn, sql.SQL(
                "SELECT jsonb_agg(jsonb_build_array(column_name, data_type) ORDER BY ordinal_position) "
                "FROM information_schema.columns WHERE table_schema = {} AND table_name = {}").format(
                sql.Literal(self.schema), sql.Literal(table)), fetch=True)
            fields = []
            for name, data_type in columns:
                column = sql.Identifier("t", name)
                value = (sql.SQL("jsonb_build_array(jsonb_typeof({c}::jsonb), {c}::text)").format(c=column)
                         if data_type in ("json", "jsonb") else sql.SQL("to_jsonb({})").format(column))
                fields.append(sql.SQL("{}, {}").format(sql.Literal(name), value))
            parts.append(sql.SQL("{label}, (SELECT coalesce(jsonb_agg(jsonb_build_object({fields}) ORDER BY t.{key}), "
                                 "'[]') FROM {table} t)").format(
                label=sql.Literal(label), fields=sql.SQL(", ").join(fields), key=sql.Identifier(key),
                table=sql.Identifier(self.schema, table)))
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


def compare_rows(a: dict, b: dict, low: float, high: float) -> list[str]:
    """Every row/column difference between two dumps after masking volatile values; [] when equal."""
    problems = []
    for label, key in (("sessions", "session_id"), ("runs", "run_id")):
        a_rows = {str(r[key]): r for r in (_mask_row(x, low, high) for x in a[label])}
        b_rows = {str(r[key]): r for r in (_mask_row(x, low, high) for x in b[label])}
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
