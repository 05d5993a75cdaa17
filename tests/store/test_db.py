"""Locating, opening and migrating the store."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from sales_connect.db import (
    MIGRATION_LOCK_KEY,
    VERSION_TABLE,
    Store,
    make_engine,
    migrate,
    resolve_url,
    url_from_airflow_connection,
)
from sales_connect.models import Base, ChangeCounter, User

SECRET = "s3cr#t/pw"
AIRFLOW_PG_CONN = {
    "conn_type": "postgres",
    "login": "rep",
    "password": SECRET,
    "host": "db.internal",
    "port": 5433,
    "schema": "salesconnect",
    "extra": {"sslmode": "require"},
}


def _schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrate_creates_exactly_the_model_schema(store_url: str) -> None:
    assert _schema_differences(store_url) != [], "an empty database must differ, or the comparison proves nothing"
    migrate(store_url)
    assert _schema_differences(store_url) == []


def _newest_revision() -> str:
    """The head of the linear revision chain: the highest numbered file in versions/."""
    import sales_connect.migrations.versions as versions

    return max(p.name[:4] for p in Path(versions.__file__).parent.glob("[0-9][0-9][0-9][0-9]_*.py"))


def test_migrate_seeds_the_change_counter_and_is_repeatable(store_url: str) -> None:
    migrate(store_url)
    migrate(store_url)  # a second upgrade is a no-op, not a duplicate row
    store = Store(store_url)
    try:
        with store.session() as session:
            rows = session.execute(select(ChangeCounter.id, ChangeCounter.value)).all()
            assert [tuple(r) for r in rows] == [(1, 0)]
            version = session.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()
            assert version == _newest_revision()
        assert "alembic_version" not in inspect(store.engine).get_table_names()
    finally:
        store.dispose()


def test_migrations_on_postgresql_take_turns(pg_databases) -> None:  # type: ignore[no-untyped-def]
    """A second process starting up while another migrates waits for it, then finds the work done."""
    url = pg_databases.create("race")
    holder = make_engine(url)
    try:
        with holder.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            proc = subprocess.Popen(
                [sys.executable, "-m", "sales_connect", "migrate", "--url", url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            deadline = time.monotonic() + 60
            while not _waits_on_advisory_lock(holder, url):
                assert proc.poll() is None, f"migrate did not wait for the lock: {proc.communicate()}"
                assert time.monotonic() < deadline, "migrate never reached the migration lock"
                time.sleep(0.05)
            assert _schema_differences(url) != [], "nothing may be migrated while another migration holds the lock"
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "latest schema" in out
    finally:
        holder.dispose()
    assert _schema_differences(url) == []
    migrate(url)  # the next process to start finds nothing to do


def _waits_on_advisory_lock(engine, url: str) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    with engine.connect() as conn:
        return bool(conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event = 'advisory'"),
            {"db": make_url(url).database},
        ).scalar())


def test_cli_migrates_and_hides_the_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "sales_connect", "migrate", "--url", url], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "latest schema" in proc.stdout
    assert _schema_differences(url) == []


def test_cli_reports_an_unreachable_database_without_its_password(pg_databases) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql+psycopg2://nobody:{SECRET}@127.0.0.1:1/none"
    proc = subprocess.run(
        [sys.executable, "-m", "sales_connect", "migrate", "--url", url], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert SECRET not in proc.stdout + proc.stderr


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SALES_CONNECT_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("SALES_CONNECT_DB_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SALES_CONNECT_DB", raising=False)
    default = resolve_url()
    assert default == f"sqlite:///{tmp_path / 'var' / 'sales_connect.db'}"
    assert (tmp_path / "var").is_dir()

    monkeypatch.setenv("AIRFLOW_CONN_SALES_CONNECT_DB", json.dumps(AIRFLOW_PG_CONN))
    from_airflow = resolve_url()
    assert from_airflow.startswith("postgresql+psycopg2://rep:")
    assert from_airflow.endswith("@db.internal:5433/salesconnect?sslmode=require")

    monkeypatch.setenv("SALES_CONNECT_DB_URL", "sqlite:///from-env.db")
    assert resolve_url() == "sqlite:///from-env.db"
    assert resolve_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_airflow_connection_keeps_a_password_with_special_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.engine import make_url

    monkeypatch.delenv("SALES_CONNECT_DB_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SALES_CONNECT_DB", json.dumps(AIRFLOW_PG_CONN))
    assert make_url(resolve_url()).password == SECRET


def test_resolved_url_is_logged_without_password(monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SALES_CONNECT_DB_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SALES_CONNECT_DB", json.dumps(AIRFLOW_PG_CONN))
    with caplog.at_level(logging.DEBUG, logger="sales_connect.db"):
        resolve_url()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "sales_connect.db")
    assert "db.internal" in logged
    assert SECRET not in logged and "***" in logged


def test_unsupported_airflow_connection_type_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALES_CONNECT_DB_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SALES_CONNECT_DB", json.dumps({**AIRFLOW_PG_CONN, "conn_type": "mysql"}))
    with pytest.raises(ValueError, match="conn_type 'mysql'"):
        resolve_url()


def test_airflow_sqlite_connection_uses_its_path() -> None:
    from airflow.sdk import Connection

    conn = Connection(conn_id="sales_connect_db", conn_type="sqlite", host="/srv/sc/store.db")
    assert url_from_airflow_connection(conn) == "sqlite:////srv/sc/store.db"


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


def test_postgresql_engine_pings_before_use(pg_databases) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(pg_databases.create("ping"))
    try:
        assert engine.pool._pre_ping is True
    finally:
        engine.dispose()


def test_unsupported_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database") as caught:
        make_engine(f"mysql://root:{SECRET}@localhost/x")
    assert SECRET not in str(caught.value)


def test_foreign_keys_are_enforced(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    from sales_connect.models import Task

    with pytest.raises(IntegrityError), store.session() as session:
        session.add(Task(user_id=999, subject="orphan"))


def test_session_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.session() as session:
        session.add(User(email="x@example.com", name="X"))
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.scalars(select(User)).all() == []
