"""Where the Sales Connect database is, and how to open and migrate it.

One resolution order everywhere (the app, the sync, the CLI, the tests), so
a process never silently writes to a different database than its neighbours:
explicit argument > ``SALES_CONNECT_DB_URL`` > the Airflow connection
``sales_connect_db`` > a SQLite file under ``$SALES_CONNECT_VAR``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import sessionmaker

from sales_connect.changes import StoreSession

log = logging.getLogger(__name__)

ENV_URL = "SALES_CONNECT_DB_URL"
ENV_VAR_DIR = "SALES_CONNECT_VAR"
AIRFLOW_CONN_ID = "sales_connect_db"
# Our own version table, so the store can share a PostgreSQL database with
# Airflow's metadata (which already owns ``alembic_version``) without clashing.
VERSION_TABLE = "sales_connect_alembic_version"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# Arbitrary, fixed: the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 0x5A1E5C0

_REPO_ROOT = Path(__file__).resolve().parents[2]
_AIRFLOW_DRIVERS = {"postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2", "sqlite": "sqlite"}


def redact(url: str | URL) -> str:
    """The URL as text with any password masked: the only form we ever log."""
    return make_url(url).render_as_string(hide_password=True)


def default_sqlite_url() -> str:
    """``sqlite:///$SALES_CONNECT_VAR/sales_connect.db``, creating the folder."""
    var_dir = Path(os.environ.get(ENV_VAR_DIR) or _REPO_ROOT / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var_dir / 'sales_connect.db'}"


def url_from_airflow_connection(conn: Any) -> str:
    """Turn an Airflow ``Connection`` into a SQLAlchemy URL.

    Only the backends the store supports are accepted; anything else is a
    configuration mistake that must fail loudly rather than fall back.
    """
    driver = _AIRFLOW_DRIVERS.get(conn.conn_type or "")
    if driver is None:
        raise ValueError(
            f"Airflow connection {conn.conn_id!r} has conn_type {conn.conn_type!r}; "
            f"the Sales Connect store supports {sorted(_AIRFLOW_DRIVERS)}"
        )
    if driver == "sqlite":
        # Airflow's sqlite connections keep the file path in ``host``.
        return f"sqlite:///{conn.host or conn.schema}"
    query = {str(k): str(v) for k, v in (conn.extra_dejson or {}).items()}
    url = URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
        query=query,
    )
    return url.render_as_string(hide_password=False)


def _airflow_connection_url() -> str | None:
    """The ``sales_connect_db`` connection as a URL, or None without Airflow or the connection."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        return None
    try:
        conn = BaseHook.get_connection(AIRFLOW_CONN_ID)
    except AirflowNotFoundException:
        return None
    return url_from_airflow_connection(conn)


def resolve_url(explicit: str | None = None) -> str:
    """The store's database URL: explicit > env > Airflow connection > default SQLite file."""
    if explicit:
        source, url = "argument", explicit
    elif os.environ.get(ENV_URL):
        source, url = ENV_URL, os.environ[ENV_URL]
    elif (airflow_url := _airflow_connection_url()) is not None:
        source, url = f"Airflow connection {AIRFLOW_CONN_ID}", airflow_url
    else:
        source, url = "default", default_sqlite_url()
    log.debug("Sales Connect store URL from %s: %s", source, redact(url))
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the UI read while the sync writes; foreign keys are off by
    # default in SQLite; busy_timeout makes a second writer wait, not fail.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str | URL) -> Engine:
    """An engine tuned for the backend: SQLite pragmas, PostgreSQL pre-ping."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database for the Sales Connect store: {redact(parsed)}")


def alembic_config(connection: Any = None) -> Any:
    """Alembic configuration pointing at the migrations shipped inside this package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "sales_connect:migrations")
    cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _sqlite_migration_lock(url: str | URL) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (no-op for other backends).

    SQLite runs DDL outside the driver's transaction, so two processes migrating a fresh file
    would both create the same tables and one would fail ("table ... already exists"). An
    exclusive ``flock`` on ``<file>.migrate-lock`` makes the later ones wait and then find the
    work done, as PostgreSQL's advisory lock does. In-memory databases are private to a process.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        yield
        return
    import fcntl

    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (Alembic ``upgrade``).

    Safe to call from every component at start, at the same time: PostgreSQL takes an advisory
    lock, SQLite a lock file, so the later callers wait and find the work done.
    """
    from alembic import command

    engine = make_engine(url)
    try:
        with _sqlite_migration_lock(url), engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several processes (scheduler, api-server, workers) may migrate
                # at start-up; the lock makes the later ones find the work done.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(conn), revision)
    finally:
        engine.dispose()
    log.info("Sales Connect store at %s migrated to %s", redact(url), revision)


class Store:
    """An engine plus the session factory whose sessions do change capture.

    Every writer of tasks must use sessions from here: their ``before_flush``
    hook is what stamps ``change_seq``/``version``/``updated_at``. Objects
    stay readable after the session ends (``expire_on_commit=False``) so a
    page can render what it just saved; re-read them for fresh values.
    PostgreSQL must run at READ COMMITTED (its default): change capture
    relies on a waiting writer re-reading the counter row after the lock.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, class_=StoreSession, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({redact(self.url)!r})"

    @contextmanager
    def session(self, changed_by: str | None = None) -> Iterator[StoreSession]:
        """A session that commits on success and rolls back on any exception.

        ``changed_by`` ("user" or "sync") marks every task written in it
        unless a task's ``changed_by`` is set explicitly.
        """
        with self.sessionmaker() as session:
            if changed_by is not None:
                session.set_changed_by(changed_by)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close pooled connections (tests, process shutdown)."""
        self.engine.dispose()
