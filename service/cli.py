"""`agno-session serve | migrate | check`: run the service, create its tables, or verify a deployment."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace

from service.config import ConfigError, Settings, load_settings
from service.logs import LOGGER, configure_logging
from service.preflight.command import run_preflight
from service.storage import counts
from service.storage.errors import StorageError
from service.storage.pool import Database
from service.storage.schema import create_tables, table_columns

log = logging.getLogger(LOGGER)


def _databases(settings: Settings) -> list[Database]:
    """One short-lived handle per configured database (pools open lazily, nothing shared across forks)."""
    return [Database(c, 1, settings.request_timeout) for c in settings.databases]


def migrate(settings: Settings, indexes: bool = False) -> None:
    """Create agno's schema, tables and indexes where missing, in every configured database."""
    for db in _databases(settings):
        try:
            for note in create_tables(db, indexes=indexes):
                log.warning(note)
            log.info("tables ready", extra={"fields": {"db_id": db.config.db_id, "schema": db.config.schema,
                                                       "sessions": db.config.session_table,
                                                       "runs": db.config.runs_table, "indexes": indexes}})
        finally:
            db.close()


def check(settings: Settings) -> int:
    """Connect to every database and report the table layout found; non-zero when anything is wrong."""
    failures = 0
    for db in _databases(settings):
        c = db.config
        try:
            layout = {table: table_columns(db, table) for table in (c.session_table, c.runs_table)}
            sessions, runs = layout[c.session_table], layout[c.runs_table]
            state = "ok"
            if not sessions or not runs:
                state, failures = "missing tables (run `agno-session migrate`)", failures + 1
            legacy = "runs" in sessions
            print(f"{c.db_id}: {state}; {c.schema}.{c.session_table} ({len(sessions)} columns"
                  f"{', legacy runs column' if legacy else ''}), {c.schema}.{c.runs_table} ({len(runs)} columns); "
                  f"db_id {c.db_id_origin}")
            if sessions:
                failures += not _report_counts(db)
        except StorageError as exc:
            failures += 1
            print(f"{c.db_id}: cannot connect: {exc.message} (db_id {c.db_id_origin})")
        finally:
            db.close()
        if db.replica is not None:
            failures += not _replica_answers(db.replica)
    return 1 if failures else 0


def _report_counts(db: Database) -> bool:
    """Say whether the list's session counts are in use and still equal the table; False when they drifted."""
    agree = counts.agree(db)
    if agree is None:
        print(f"{db.config.db_id}: session counts not installed: lists count rows (`agno-session migrate --indexes`)")
    elif agree:
        print(f"{db.config.db_id}: session counts ok")
    else:
        print(f"{db.config.db_id}: session counts differ from the table (a trigger was off): run "
              "`agno-session migrate --indexes` to recount")
    return agree is not False


def _replica_answers(replica: Database) -> bool:
    """Report whether a read replica answers a round trip: serving tolerates its absence, a deployment check not."""
    try:
        replica.ping()
    except StorageError as exc:
        print(f"{replica.config.db_id} replica: cannot connect: {exc.message}")
        return False
    print(f"{replica.config.db_id} replica: ok")
    return True


def serve(settings: Settings) -> int:
    """Run under gunicorn with threaded workers (behind nginx with AGNO_FRONT=nginx); embedded PostgreSQL starts
    first when no DSN is set."""
    from service.embedded import with_embedded_dsn
    from service.server import front, gunicorn_app

    if settings.front == "nginx":
        front.nginx_binary()  # a missing nginx is a configuration error, before anything starts

    settings = with_embedded_dsn(settings)
    for db in settings.databases:
        log.info("database", extra={"fields": {"db_id": db.db_id, "db_id_from": db.db_id_origin}})
    try:
        migrate(settings)
    except StorageError as exc:
        if settings.embedded:
            raise
        log.warning("could not create tables at start-up", extra={"fields": {"error": exc.message}})
    if settings.front == "nginx":
        keepalive = float(gunicorn_app.gunicorn_options(settings, "").get("keepalive", 2))  # type: ignore[arg-type]
        return front.serve(settings, lambda behind, bind: gunicorn_app.run(
            behind, bind, ready_message=f"gunicorn listening on {bind} behind nginx"), keepalive)
    gunicorn_app.run(settings, f"{settings.host}:{settings.port}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="agno-session", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve the /sessions API")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.add_argument("--workers", type=int)
    p_serve.add_argument("--threads", type=int)
    p_migrate = sub.add_parser("migrate", help="create missing tables")
    p_migrate.add_argument("--indexes", action="store_true", help="also add the indexes this service's queries use")
    p_check = sub.add_parser("check", help="validate configuration and report each database's table layout; with "
                             "--agentos-url, also compare db_ids and authentication with that AgentOS")
    p_check.add_argument("--agentos-url", help="a running AgentOS: its GET /config is compared with this service")
    p_check.add_argument("--agentos-key", help="AgentOS's OS_SECURITY_KEY (default $AGENTOS_KEY, else OS_SECURITY_KEY)")
    p_check.add_argument("--agentos-token", help="a JWT AgentOS accepts (default $AGENTOS_TOKEN)")
    p_check.add_argument("--sessions-url", help="compare with this running agno-session instead of the settings here "
                         "(what `make shadow` does)")
    args = parser.parse_args(argv)
    if getattr(args, "sessions_url", None) and not args.agentos_url:
        parser.error("--sessions-url compares with an AgentOS: give --agentos-url too")
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"agno-session: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    overrides = {k: getattr(args, k) for k in ("host", "port", "workers", "threads") if getattr(args, k, None)}
    settings = replace(settings, **overrides)
    try:
        return _run(args.command, settings, args)
    except ConfigError as exc:
        print(f"agno-session: configuration error: {exc}", file=sys.stderr)
        return 2


def _run(command: str, settings: Settings, args: argparse.Namespace) -> int:
    """One command with validated settings."""
    if command == "serve":
        return serve(settings)
    if command == "check" and args.agentos_url and args.sessions_url:
        return run_preflight(settings, args.agentos_url, args.agentos_key, args.agentos_token, args.sessions_url)
    from service.embedded import with_embedded_dsn

    settings = with_embedded_dsn(settings)
    if command == "migrate":
        migrate(settings, indexes=args.indexes)
        return 0
    found = check(settings)
    if args.agentos_url:
        return run_preflight(settings, args.agentos_url, args.agentos_key, args.agentos_token, None) or found
    return found


if __name__ == "__main__":
    sys.exit(main())
