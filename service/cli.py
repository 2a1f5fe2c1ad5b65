"""`agno-session serve | serve-events | migrate | check | retention | erase | export | import | copy | deliver |
webhooks`: run the service or its event stream, create its tables, verify a deployment, apply the retention
policies, erase a user, carry sessions between databases, or deliver the change feed to webhooks."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
import time
from dataclasses import replace
from typing import TextIO

from service.commands import portability
from service.commands.options import add_db_id, add_listen
from service.commands.storage_failure import exit_on_storage_error
from service.core.config import ConfigError, Settings, load_settings
from service.core.logs import LOGGER, configure_logging
from service.preflight.command import run_preflight
from service.storage import changes, counts, idempotency, lifecycle, search_index
from service.storage.errors import StorageError
from service.storage.migration import (
    CHANGES,
    ChangesOptions,
    DdlConnection,
    LifecycleOptions,
    SearchOptions,
    installed,
    migrate_database,
)
from service.storage.pool import Database
from service.storage.registry import open_database
from service.storage.retention import RetentionUnavailable
from service.storage.schema import table_columns

log = logging.getLogger(LOGGER)


def _databases(settings: Settings) -> list[Database]:
    """One short-lived handle per configured database (pools open lazily, nothing shared across forks)."""
    return [open_database(c, 1, settings.request_timeout) for c in settings.databases]


def migrate(settings: Settings, indexes: bool = False, *, dry_run: bool = False, timeout: float | None = None,
            lock_timeout: float | None = None, out: TextIO | None = None, search: bool = False,
            drop_search: bool = False, rebuild: bool = False, idempotency: bool = False,
            lifecycle: bool = False, hold_trigger: bool = False, changes: bool = False,
            drop_changes: bool = False, hooks: bool = False) -> None:
    """Create agno's schema, tables and indexes where missing, in every configured database, without making its
    writers wait longer than the lock timeout; with `indexes`, this service's indexes and session counts too; with
    `search`, the search index (emptied and backfilled again with `rebuild`); `drop_search` removes it; with
    `idempotency`, the Idempotency-Key table; with `lifecycle`, the archive, hold and erasure tables (and with
    `hold_trigger` the trigger refusing AgentOS's deletes of held sessions); with `changes`, the change log and its
    triggers (`drop_changes` removes them); with `hooks`, the webhook
    deliverer's tables.
    Each step's outcome goes to `out` as it ends; a failure raises MigrationFailed (one line)."""
    limit = timeout or settings.migrate_timeout
    ends = time.monotonic() + limit  # one time limit for the whole run, every database included
    for db in _databases(settings):
        c = db.config
        conn = DdlConnection(c.dsn, c.db_id, limit, lock_timeout or settings.migrate_lock_timeout, ends)
        try:
            options = SearchOptions(search, drop_search, rebuild, settings.search_config,
                                    lambda line, c=c: _say(out, f"{c.db_id}: {line}"))
            migration = migrate_database(db, conn, indexes, dry_run,
                                         lambda step, c=c: _say(out, f"{c.db_id}: {step.line(dry_run)}"), options,
                                         idempotency, LifecycleOptions(lifecycle, hold_trigger),
                                         ChangesOptions(changes, drop_changes), hooks)
            for note in migration.notes:
                log.warning(note)
            changed = sum(step.action in CHANGES for step in migration.steps)
            skipped = sum(step.action == "skip" for step in migration.steps)
            left = len(migration.steps) - changed - skipped
            tail = f", {skipped} skipped" if skipped else ""
            _say(out, f"{c.db_id}: dry run, nothing changed: {changed} to change, {left} left as they are{tail}"
                 if dry_run else f"{c.db_id}: {changed} changed, {left} left as they were{tail}")
            if not dry_run:
                log.info("tables ready", extra={"fields": {"db_id": c.db_id, "schema": c.schema,
                                                           "sessions": c.session_table, "runs": c.runs_table,
                                                           **installed(db, conn)}})
        finally:
            conn.close()
            db.close()


def _say(out: TextIO | None, line: str) -> None:
    """One summary line, flushed at once (an index build may take minutes: the lines before it are the progress)."""
    if out is not None:
        print(line, file=out, flush=True)


def _migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    """`agno-session migrate`: the summary on stdout; a failure is one line on stderr and exit code 1."""
    def run() -> int:
        migrate(settings, indexes=args.indexes, dry_run=args.dry_run, timeout=args.timeout,
                lock_timeout=args.lock_timeout, out=sys.stdout, search=args.search, drop_search=args.drop_search,
                rebuild=args.rebuild, idempotency=args.idempotency, lifecycle=args.lifecycle,
                hold_trigger=args.hold_trigger, changes=args.changes, drop_changes=args.drop_changes,
                hooks=args.webhooks)
        return 0

    return exit_on_storage_error("migrate", run)


def _retention_command(settings: Settings, args: argparse.Namespace) -> int:
    """`agno-session retention`: the plan or the sweep on stdout, progress on stderr; a failure is one line on
    stderr and exit code 1 (what was committed before it stays: running it again continues)."""
    # Imported here: its pushed metrics import prometheus_client, which `serve` must import only after it has
    # pointed PROMETHEUS_MULTIPROC_DIR at the workers' shared directory (server/metrics_dir.py).
    from service.commands import retention as retention_command

    if settings.retention_file is None:
        print(f"agno-session retention: {retention_command.NO_FILE}", file=sys.stderr)
        return 2

    def run() -> int:
        try:
            if args.step == "apply":
                return retention_command.apply_command(settings, sys.stdout, sys.stderr, args.batch)
            return retention_command.plan_command(settings, sys.stdout, args.show, args.json)
        except RetentionUnavailable as exc:
            print(f"agno-session retention: {exc}", file=sys.stderr)
            return 1

    return exit_on_storage_error("retention", run)


def _batch_size(text: str) -> int:
    """A whole number from 1 to 10000 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 10000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 10000, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 86400, got {text!r}")
    return value


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
                failures += not _report_search(db)
                failures += not _report_changes(db)
                _report_side_tables(db)
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


def _report_search(db: Database) -> bool:
    """Say whether the search index is absent, building (and from where it resumes), complete, or broken (False)."""
    found = search_index.status(db)
    config = f" (text search configuration {found.config})" if found.config else ""
    if found.state == search_index.ABSENT:
        line = "search index not installed: searches scan (`agno-session migrate --search`)"
    elif found.state == search_index.BUILDING:
        where = f"after session {found.position!r}" if found.position else "from the start"
        line = f"search index building{config}: searches scan until `agno-session migrate --search` completes it " \
               f"(it resumes {where})"
    elif found.state == search_index.COMPLETE:
        line = f"search index complete{config}, {found.pending} written runs queued for indexing"
    else:
        line = f"search index broken{config}: {found.problem}; run `agno-session migrate --search` to repair it"
    print(f"{db.config.db_id}: {line}")
    return found.state != search_index.BROKEN


def _report_changes(db: Database) -> bool:
    """Say whether the change log is absent, complete, or missing triggers (False: writes go unrecorded)."""
    if not changes.installed(db):
        print(f"{db.config.db_id}: change log not installed: GET /sessions/-/changes answers 503 "
              "(`agno-session migrate --changes`)")
        return True
    if changes.triggers_firing(db):
        print(f"{db.config.db_id}: change log ok (triggers firing on both tables)")
        return True
    print(f"{db.config.db_id}: change log broken: some of its triggers are missing or disabled, writes go unrecorded; "
          "run `agno-session migrate --changes` to repair it")
    return False


def _report_side_tables(db: Database) -> None:
    """Say whether the Idempotency-Key and lifecycle tables are there (without them their requests answer 503)."""
    for present, ok, missing in (
            (idempotency.installed(db), "idempotency keys ok", "idempotency keys not installed: requests with an "
             "Idempotency-Key answer 503 (`agno-session migrate --idempotency`)"),
            (lifecycle.installed(db), "lifecycle tables ok (archive, holds, erasures)", "lifecycle tables not "
             "installed: archive, hold and erasure routes answer 503 (`agno-session migrate --lifecycle`)")):
        print(f"{db.config.db_id}: {ok if present else missing}")


def _replica_answers(replica: Database) -> bool:
    """Report whether a read replica answers a round trip: serving tolerates its absence, a deployment check not."""
    try:
        replica.ping()
    except StorageError as exc:
        print(f"{replica.config.db_id} replica: cannot connect: {exc.message}")
        return False
    print(f"{replica.config.db_id} replica: ok")
    return True


def _warn_if_open(settings: Settings) -> None:
    """Listening beyond loopback with neither a key nor JWT serves every session to anyone who reaches the port."""
    if settings.authenticated or _loopback(settings.host):
        return
    log.warning(f"listening on {settings.host}:{settings.port} without authentication: anyone who reaches this port "
                "can read, change and delete every session; set OS_SECURITY_KEY (or a JWT key), or "
                "AGNO_SERVICE_HOST=127.0.0.1", extra={"fields": {"host": settings.host}})


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings) -> int:
    """Run under gunicorn with threaded workers (behind nginx with AGNO_FRONT=nginx); embedded PostgreSQL starts
    first when no DSN is set."""
    from service.embedded import with_embedded_dsn
    from service.server import front, gunicorn_app

    if settings.front == "nginx":
        front.nginx_binary()  # a missing nginx is a configuration error, before anything starts

    settings = with_embedded_dsn(settings)
    _warn_if_open(settings)
    for db in settings.databases:
        log.info("database", extra={"fields": {"db_id": db.db_id, "db_id_from": db.db_id_origin}})
    try:
        migrate(settings)
    except StorageError as exc:
        if settings.embedded:
            raise
        log.warning("could not create tables at start-up", extra={"fields": {"error": exc.message}})
    if settings.front == "nginx":
        return front.serve(settings, lambda behind, bind: gunicorn_app.run(
            behind, bind, ready_message=f"gunicorn listening on {bind} behind nginx"))
    gunicorn_app.run(settings, f"{settings.host}:{settings.port}")
    return 0


def serve_events(settings: Settings, host: str | None, port: int | None) -> int:
    """Serve GET /sessions/-/events from this process (aiohttp), beside `serve`'s workers; same databases, same
    authentication, its own port (AGNO_EVENTS_PORT)."""
    import os

    from service.embedded import with_embedded_dsn
    from service.events.event_server import serve as serve_stream
    from service.events.event_settings import load_event_settings

    events = load_event_settings(os.environ, settings.host)
    events = replace(events, host=host or events.host, port=port or events.port)
    settings = with_embedded_dsn(settings)
    _warn_if_open(replace(settings, host=events.host, port=events.port))
    return serve_stream(settings, events)


MIGRATE_FLAGS = (  # migrate's switches, each installing (or removing) one part
    ("--indexes", "also add the indexes this service's queries use and the session counts"),
    ("--search", "also install the message search index (triggers, then a resumable backfill)"),
    ("--rebuild", "with --search: empty the index and backfill it again (after changing AGNO_SEARCH_CONFIG)"),
    ("--drop-search", "remove the search index: its triggers, functions and tables"),
    ("--idempotency", "also create the table Idempotency-Key answers are kept in"),
    ("--lifecycle", "also create the archive, legal hold and erasure tables (new columns of agno's tables are added "
                    "to the archive on each run)"),
    ("--hold-trigger", "with --lifecycle: install the trigger that refuses every delete of a held session, AgentOS's "
                       "included (AgentOS then answers 500)"),
    ("--changes", "also install the change log: a side table and statement-level triggers on agno's tables "
                  "recording every session and run change (GET /sessions/-/changes)"),
    ("--drop-changes", "remove the change log: its triggers, functions and tables"),
    ("--webhooks", "also create the webhook deliverer's tables (positions, queue, dead letters); deliver needs the "
                   "change log too (--changes)"),
)


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="agno-session", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve the /sessions API")
    add_listen(p_serve)
    p_serve.add_argument("--workers", type=int)
    p_serve.add_argument("--threads", type=int)
    p_events = sub.add_parser("serve-events", help="serve the change feed as server-sent events "
                              "(GET /sessions/-/events) from a process of its own")
    add_listen(p_events)
    p_migrate = sub.add_parser("migrate", help="create missing tables (safe on a live database)")
    for flag, text in MIGRATE_FLAGS:
        p_migrate.add_argument(flag, action="store_true", help=text)
    p_migrate.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")
    p_migrate.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                           help="time limit of the whole run (default AGNO_MIGRATE_TIMEOUT, 900)")
    p_migrate.add_argument("--lock-timeout", type=_seconds, metavar="SECONDS",
                           help="longest wait for one lock on agno's tables, retried "
                                "(default AGNO_MIGRATE_LOCK_TIMEOUT, 2)")
    p_retention = sub.add_parser("retention", help="the retention policies of AGNO_RETENTION_FILE: `plan` (the "
                                 "default) says what they would touch, `apply --yes` applies them")
    p_retention.add_argument("step", nargs="?", choices=("plan", "apply"), default="plan")
    p_retention.add_argument("--yes", action="store_true", help="apply: archive, delete and trim as the plan says")
    p_retention.add_argument("--batch", type=_batch_size, default=100, metavar="SESSIONS",
                             help="apply: sessions per transaction (default 100; smaller holds locks shorter)")
    p_retention.add_argument("--show", type=_batch_size, default=10, metavar="IDS",
                             help="plan: how many of each policy's first session ids to print (default 10)")
    p_retention.add_argument("--json", action="store_true", help="plan: one JSON document per database")
    p_check = sub.add_parser("check", help="validate configuration and report each database's table layout; with "
                             "--agentos-url, also compare db_ids and authentication with that AgentOS")
    p_check.add_argument("--agentos-url", help="a running AgentOS: its GET /config is compared with this service")
    p_check.add_argument("--agentos-key", help="AgentOS's OS_SECURITY_KEY (default $AGENTOS_KEY, else OS_SECURITY_KEY)")
    p_check.add_argument("--agentos-token", help="a JWT AgentOS accepts (default $AGENTOS_TOKEN)")
    p_check.add_argument("--sessions-url", help="compare with this running agno-session instead of the settings here "
                         "(what `make shadow` does)")
    p_erase = sub.add_parser("erase", help="erase everything about one user (sessions, runs, related rows, archive, "
                             "memories) and print the receipt; needs `migrate --lifecycle` and AGNO_ERASURE_KEY")
    p_erase.add_argument("--user-id", required=True, help="the user whose rows are erased")
    p_erase.add_argument("--dry-run", action="store_true", help="print how many rows each table would lose; change "
                         "nothing")
    p_erase.add_argument("--override-holds", action="store_true",
                         help="erase sessions under a legal hold too (otherwise a hold refuses the erasure)")
    add_db_id(p_erase)
    portability.add_commands(sub)
    p_deliver = sub.add_parser("deliver", help="deliver the change feed to the webhooks of AGNO_WEBHOOKS_FILE (runs "
                               "until SIGTERM; one active deliverer per database, others stand by)")
    p_deliver.add_argument("--poll", type=_seconds, default=1.0, metavar="SECONDS",
                           help="pause between rounds when nothing was waiting (default 1)")
    p_deliver.add_argument("--lock-retry", type=_seconds, default=5.0, metavar="SECONDS",
                           help="how often a standby tries to take over the deliverer lock (default 5)")
    p_deliver.add_argument("--threads", type=_batch_size, default=8, metavar="N",
                           help="requests in flight at once, to different sessions (default 8)")
    p_webhooks = sub.add_parser("webhooks", help="webhook delivery: `dead-letters` lists what failed for the whole "
                                "retry window; --replay ID or --replay-all sends it again")
    p_webhooks.add_argument("step", choices=("dead-letters",))
    p_webhooks.add_argument("--replay", type=int, action="append", metavar="ID",
                            help="put this dead letter back in the queue (repeatable)")
    p_webhooks.add_argument("--replay-all", action="store_true", help="put every dead letter back in the queue")
    p_webhooks.add_argument("--subscription", help="only this subscription's dead letters")
    p_webhooks.add_argument("--limit", type=_batch_size, default=100, metavar="N", help="how many to list (100)")
    p_webhooks.add_argument("--json", action="store_true", help="one JSON document per dead letter")
    args = parser.parse_args(argv)
    if getattr(args, "drop_search", False) and (args.search or args.rebuild):
        parser.error("--drop-search removes the search index: give it without --search and --rebuild")
    if getattr(args, "drop_changes", False) and args.changes:
        parser.error("--drop-changes removes the change log: give it without --changes")
    if getattr(args, "rebuild", False) and not args.search:
        parser.error("--rebuild rebuilds the search index: give it with --search")
    if getattr(args, "step", None) == "apply" and not args.yes:
        parser.error("retention apply archives, deletes and trims sessions: give --yes (`retention plan` shows what)")
    if getattr(args, "hold_trigger", False) and not args.lifecycle:
        parser.error("--hold-trigger refuses deletes of held sessions: give it with --lifecycle")
    if getattr(args, "replay", None) and args.replay_all:
        parser.error("give --replay ID or --replay-all, not both")
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
    if command == "serve-events":
        return serve_events(settings, args.host, args.port)
    if command == "check" and args.agentos_url and args.sessions_url:
        return run_preflight(settings, args.agentos_url, args.agentos_key, args.agentos_token, args.sessions_url)
    from service.embedded import with_embedded_dsn

    settings = with_embedded_dsn(settings)
    if command == "migrate":
        return _migrate_command(settings, args)
    if command == "retention":
        return _retention_command(settings, args)
    if command == "erase":
        from service.commands.erase import erase_command

        return erase_command(settings, args.user_id, args.dry_run, args.override_holds, args.db_id)
    if command == "deliver":
        from service.commands.deliver import deliver_command

        return deliver_command(settings, sys.stdout, sys.stderr, args.poll, args.lock_retry, args.threads)
    if command == "webhooks":
        from service.commands.dead_letters import dead_letters_command

        return dead_letters_command(settings, sys.stdout, sys.stderr, args.replay, args.replay_all, args.subscription,
                                    args.limit, args.json)
    if command in ("export", "import", "copy"):
        return portability.run(command, settings, args)
    found = check(settings)
    if args.agentos_url:
        return run_preflight(settings, args.agentos_url, args.agentos_key, args.agentos_token, None) or found
    return found


if __name__ == "__main__":
    sys.exit(main())
