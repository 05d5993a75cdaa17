"""Command line: ``python -m sales_connect migrate [--url URL]``."""

from __future__ import annotations

import argparse
import logging

from sales_connect.db import migrate, redact, resolve_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sales_connect", description="Sales Connect store tools")
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the store's schema (Alembic upgrade head)")
    migrate_cmd.add_argument("--url", help="SQLAlchemy URL (default: $SALES_CONNECT_DB_URL, Airflow, SQLite file)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = resolve_url(args.url)
    migrate(url)
    print(f"Sales Connect store at {redact(url)} is at the latest schema")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
