"""EXPLAIN (ANALYZE, BUFFERS) of the statements the service composes, so tests can count the rows a read touches."""

from __future__ import annotations

from tests.support.rows import Rows


def explain(rows: Rows, db, name: str, fragments: dict, params: dict) -> dict:
    """The executed plan of the service's statement `name` composed with `fragments`, run with `params`."""
    statement = db.query(name, **fragments).as_string(rows.conn)
    with rows.conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
        return cur.fetchone()[0][0]["Plan"]


def plan_nodes(plan: dict) -> list[dict]:
    """Every node of a plan, the root first."""
    return [plan] + [n for child in plan.get("Plans", []) for n in plan_nodes(child)]
