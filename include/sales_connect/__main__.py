"""Command line: ``python -m sales_connect migrate [--url URL]`` and ``... reps add|list|link|disable``
(``sales_connect.reps_cli``)."""

from __future__ import annotations

import argparse
import logging

from sales_connect import reps_cli
from sales_connect.db import migrate, redact, resolve_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sales_connect", description="Sales Connect store tools")
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the store's schema (Alembic upgrade head)")
    migrate_cmd.add_argument("--url", help="SQLAlchemy URL (default: $SALES_CONNECT_DB_URL, Airflow, SQLite file)")
    reps_cli.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "reps":  # its output is the answer: only warnings from the migration
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return reps_cli.run(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = resolve_url(args.url)
    migrate(url)
    print(f"Sales Connect store at {redact(url)} is at the latest schema")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
