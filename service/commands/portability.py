"""The command lines of `agno-session export | import | copy`: their options, and the summary each ends with."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from service.commands import transfer
from service.commands.bundle_io import output, readable
from service.commands.options import add_db_id
from service.commands.storage_failure import exit_on_storage_error
from service.core.config import ConfigError, Settings
from service.rules.bundle import BundleError
from service.storage.pool import Database
from service.storage.registry import open_database

ON_CONFLICT = ("skip", "fail", "replace")


def _epoch(text: str) -> int:
    """Epoch seconds (argparse type)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epoch seconds, got {text!r}") from None


def _pair(text: str) -> list[str]:
    """KEY=VALUE (argparse type), as the list's metadata filter takes it."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return [key, value]


def add_filters(parser: argparse.ArgumentParser) -> None:
    """The session filters export and copy share (the list's, plus explicit ids)."""
    parser.add_argument("--type", dest="session_type", choices=("agent", "team", "workflow"))
    parser.add_argument("--user-id")
    parser.add_argument("--component-id")
    parser.add_argument("--session-id", action="append", dest="session_ids", metavar="ID")
    for name in ("created-after", "created-before", "updated-after", "updated-before"):
        parser.add_argument(f"--{name}", type=_epoch, metavar="EPOCH")
    parser.add_argument("--metadata", action="append", type=_pair, metavar="KEY=VALUE")


def add_commands(sub: Any) -> None:
    """The three subcommands and their options."""
    p_export = sub.add_parser("export", help="write sessions with every row agno keeps beside them to a bundle")
    p_export.add_argument("--output", "-o", metavar="FILE", help="bundle file (default '-': stdout)")
    p_export.add_argument("--gzip", action="store_true", help="compress (implied by a FILE ending in .gz)")
    add_db_id(p_export)
    add_filters(p_export)
    p_import = sub.add_parser("import", help="write a bundle's sessions, each all or nothing")
    p_import.add_argument("file", nargs="?", default="-", metavar="FILE", help="bundle (default '-': stdin)")
    p_import.add_argument("--on-conflict", choices=ON_CONFLICT, default="skip",
                          help="an id that exists: skip it (default; a rerun resumes), fail it, or replace it")
    p_import.add_argument("--dry-run", action="store_true", help="check the bundle and every write, keep nothing")
    add_db_id(p_import)
    p_copy = sub.add_parser("copy", help="copy (or --move) sessions between two configured databases")
    p_copy.add_argument("--from-db", required=True, metavar="DB_ID")
    p_copy.add_argument("--to-db", required=True, metavar="DB_ID")
    p_copy.add_argument("--move", action="store_true", help="delete each batch from the source once the target "
                                                            "committed it")
    add_filters(p_copy)


def filters_of(args: argparse.Namespace) -> dict[str, Any]:
    """The export filters the options give."""
    names = ("session_type", "user_id", "component_id", "session_ids", "created_after", "created_before",
             "updated_after", "updated_before", "metadata")
    return {name: getattr(args, name) for name in names}


def _database(settings: Settings, db_id: str | None) -> Database:
    """The configured database by id (default: AGNO_DEFAULT_DB_ID), with the migrate time limit per statement."""
    wanted = db_id or settings.default_db_id
    for config in settings.databases:
        if config.db_id == wanted:
            return open_database(config, 2, settings.migrate_timeout)
    raise ConfigError(f"no database with db_id {wanted!r}: configured are {[c.db_id for c in settings.databases]}")


def run(command: str, settings: Settings, args: argparse.Namespace) -> int:
    """One of the three commands; the summary on stderr (stdout may be the bundle); 1 when anything failed."""
    def one() -> int:
        try:
            if command == "export":
                return _export(settings, args)
            if command == "import":
                return _import(settings, args)
            return _copy(settings, args)
        except BundleError as exc:
            print(f"agno-session import: bundle refused, nothing written: {exc}", file=sys.stderr)
            return 1

    return exit_on_storage_error(command, one)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings, args.db_id)
    try:
        with output(args.output, args.gzip) as out:
            writer = transfer.export_bundle(db, filters_of(args), out, sys.stderr)
    finally:
        db.close()
    rows = ", ".join(f"{n} {t}" for t, n in writer.rows.items() if t != "sessions" and n)
    print(f"exported {writer.sessions} sessions from {db.config.db_id}{' (' + rows + ')' if rows else ''}",
          file=sys.stderr)
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings, args.db_id)
    try:
        with readable(args.file) as path:
            summary = transfer.import_bundle(db, path, args.on_conflict, args.dry_run, sys.stderr)
    finally:
        db.close()
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    print(f"imported into {db.config.db_id}: {summary.line(args.dry_run)}", file=sys.stderr)
    return 1 if summary.failures else 0


def _copy(settings: Settings, args: argparse.Namespace) -> int:
    if args.from_db == args.to_db:
        raise ConfigError("--from-db and --to-db name the same database")
    source, target = _database(settings, args.from_db), _database(settings, args.to_db)
    try:
        summary = transfer.copy_sessions(source, target, filters_of(args), args.move, sys.stderr)
    finally:
        source.close()
        target.close()
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    removed = f", {summary.removed} removed from {args.from_db}" if args.move else ""
    print(f"{'moved' if args.move else 'copied'} {args.from_db} -> {args.to_db}: {summary.copied} copied, "
          f"{summary.present} already there{removed}, {len(summary.failures)} failed", file=sys.stderr)
    return 1 if summary.failures else 0
