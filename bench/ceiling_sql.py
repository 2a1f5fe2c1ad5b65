"""The SQL agno-session runs for some GET routes, composed by the `service` of the tree this process starts in.

Run as a child of the side-by-side bench (`bench/sidebyside.py: pgbench_ceiling`) with its working directory and
PYTHONPATH set to the served tree, so that tree's own code composes its SQL even when it is another checkout than
the one the bench runs from. Reads {"dsn": ..., "routes": [{"name": ..., "path": ...}]} as JSON on stdin and prints
{name: SQL text with its parameters bound} as JSON; routes it has no statement for are left out.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import parse_qsl, urlsplit


def compose(dsn: str, routes: list[dict]) -> dict[str, str]:
    """Each list variant's and the detail's statement, parameters bound and comment lines dropped."""
    import psycopg2
    import psycopg2.sql

    try:  # the served tree may predate the service.core package
        from service.core.config import DatabaseConfig
    except ImportError:
        from service.config import DatabaseConfig
    from service.storage.pool import Database
    from service.storage.sessions import list_statement
    try:  # the served tree may predate the counts owning the list's total
        from service.storage.counts import list_total
    except ImportError:
        from service.storage.sessions import list_total

    db = Database(DatabaseConfig(db_id="bench", dsn=dsn), 1, 30)
    queries = {}
    for route in routes:
        url = urlsplit(route["path"])
        q = dict(parse_qsl(url.query))
        if url.path == "/sessions":
            filters = {"session_type": q.get("type", "agent"), "component_id": q.get("component_id"),
                       "user_id": q.get("user_id"), "session_name": q.get("session_name")}
            sort = (q.get("sort_by", "created_at"), q.get("sort_order", "desc"))
            limit, page = int(q.get("limit", 20)), int(q.get("page", 1))
            try:  # the served tree may predate cursor pages (the list's page as one value)
                from service.storage.sessions import ListPage
            except ImportError:
                fragments, params = list_statement(filters, *sort, limit, page, list_total(db, filters))
            else:
                fragments, params = list_statement(filters, *sort, ListPage(limit, page), list_total(db, filters),
                                                   db.identifiers["runs"])
            queries[route["name"]] = (db.query("list_sessions", **fragments), params)
        elif route["name"] == "detail":
            queries[route["name"]] = (db.query("get_session", lock=psycopg2.sql.SQL("")),
                                      {"session_id": url.path.rsplit("/", 1)[1], "user_id": q.get("user_id")})
    conn = psycopg2.connect(dsn)
    try:
        out = {}
        for name, (query, params) in queries.items():
            with conn.cursor() as cur:
                text = cur.mogrify(query, params).decode()
            out[name] = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        return out
    finally:
        conn.close()


if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(compose(request["dsn"], request["routes"]), sys.stdout)
