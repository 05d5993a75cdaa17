"""Per-stack PostgreSQL databases on a shared server: created fresh, dropped by name."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _admin_dsn(admin_url: str) -> str:
    """A libpq DSN for ``admin_url`` (SQLAlchemy style ``postgresql+psycopg2://...`` accepted)."""
    return make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str, driver: str = "postgresql+psycopg2") -> str:
    """The URL of database ``name`` on the server of ``admin_url``, with the same credentials."""
    return make_url(admin_url).set(drivername=driver, database=name).render_as_string(hide_password=False)


def create_databases(admin_url: str, names: Iterable[str]) -> None:
    """Create each database; fails if one exists (a stack never reuses someone else's data)."""
    with _autocommit(admin_url) as cur:
        for name in names:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_checked(name))))


def drop_databases(admin_url: str, names: Iterable[str]) -> None:
    """Drop each database if present, disconnecting leftover sessions (``WITH (FORCE)``, PostgreSQL 13+)."""
    with _autocommit(admin_url) as cur:
        for name in names:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_checked(name))))


def existing_databases(admin_url: str, names: Iterable[str]) -> list[str]:
    """Which of ``names`` exist on the server."""
    with _autocommit(admin_url) as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (list(names),))
        return sorted(row[0] for row in cur.fetchall())


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A fresh database for one job (a soak history, a benchmark), dropped afterwards however the job
    ends: its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create_databases(admin_url, [name])
    try:
        yield database_url(admin_url, name)
    finally:
        drop_databases(admin_url, [name])


def _checked(name: str) -> str:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"refusing database name {name!r}: use lowercase letters, digits and _")
    return name


@contextmanager
def _autocommit(admin_url: str) -> Iterator[psycopg2.extensions.cursor]:
    """Cursor on an autocommit connection (CREATE/DROP DATABASE cannot run in a transaction)."""
    conn = psycopg2.connect(_admin_dsn(admin_url), connect_timeout=10)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()
