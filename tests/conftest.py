"""Suite-wide plumbing: a private Airflow home, PostgreSQL databases per run.

Every pytest session gets its own AIRFLOW_HOME (migrated on first use) and
its own PostgreSQL databases (created here, dropped at the end), so two runs
on one machine -- two developers, or CI beside a developer -- never collide.
The environment is set before anything imports Airflow, because Airflow
reads its configuration at import time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_SESSION_TAG = uuid.uuid4().hex[:10]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="sc-airflow-home-"))

os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("SALES_CONNECT_VAR", str(_AIRFLOW_HOME / "var"))

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata DB in this session's private home."""
    done = _AIRFLOW_HOME / ".migrated"
    if not done.exists():
        proc = subprocess.run([_bin("airflow"), "db", "migrate"], capture_output=True, text=True, env=os.environ)
        if proc.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout}\n{proc.stderr}")
        done.touch()
    return _AIRFLOW_HOME


class PostgresDatabases:
    """Creates throw-away databases on the shared server and drops them at the end."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine

        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._created: list[str] = []
        self._base = admin_url.rsplit("/", 1)[0]

    def create(self, purpose: str) -> str:
        """Return the URL of a new empty database named after this session and purpose."""
        from sqlalchemy import text

        name = f"sc_{_SESSION_TAG}_{purpose}_{len(self._created)}".lower()
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return f"{self._base}/{name}"

    def drop_all(self) -> None:
        from sqlalchemy import text

        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    """Factory for per-session PostgreSQL databases; fails clearly if the server is down."""
    try:
        dbs = PostgresDatabases(PG_ADMIN_URL)
        dbs._admin.connect().close()
    except Exception as exc:  # pragma: no cover - environment problem, reported plainly
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} does not answer: {exc}")
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty Sales Connect database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sales_connect.db'}"
    return request.getfixturevalue("pg_databases").create("store")
