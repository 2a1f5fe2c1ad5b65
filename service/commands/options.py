"""Options several console commands share, declared once so their spelling and help stay the same."""

from __future__ import annotations

import argparse


def add_db_id(parser: argparse.ArgumentParser) -> None:
    """`--db-id`: the configured database a command works on."""
    parser.add_argument("--db-id", help="the database (default AGNO_DEFAULT_DB_ID)")


def add_listen(parser: argparse.ArgumentParser) -> None:
    """`--host` and `--port`: where a serving command listens (default: its settings)."""
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
