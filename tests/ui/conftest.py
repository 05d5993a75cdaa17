"""Fixtures for the Sales Connect pages: a real Airflow api-server with our plugin, a real store.

``ui_server`` starts ``airflow api-server`` (this session's private Airflow
home, simple auth manager with a few people) with ``plugins/`` loaded and
``SALES_CONNECT_DB_URL`` pointing at a migrated PostgreSQL store. No
dag-processor runs beside it, so the sync DAG is unknown to this Airflow:
that is the "DAG missing" case; the tests that need the DAG to run use the
full local stack (``test_ui_end_to_end.py``).

Before each test ``ui`` empties the store and creates the Sales Connect users
again, so tests sharing the server start from the same state.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from airflow_stack.ports import free_port
from sales_connect import repository
from sales_connect.db import Store, migrate

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/sales-connect"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"

# Airflow logins (simple auth manager role) -> Sales Connect user, or None when not linked.
PEOPLE: dict[str, tuple[str, dict[str, str] | None]] = {
    "alice": ("user", {"email": "alice@example.com", "name": "Alice Rep", "sf_owner_id": "005000000000001AAA"}),
    "bob": ("user", {"email": "bob@example.com", "name": "Bob Rep", "sf_owner_id": "005000000000002AAA"}),
    "vera": ("viewer", {"email": "vera@example.com", "name": "Vera Viewer", "sf_owner_id": "005000000000003AAA"}),
    "nolink": ("user", None),
}
STORE_TABLES = ("sync_outcomes", "sync_step_calls", "sync_errors", "sync_conflicts", "sync_runs", "task_links", "tasks",
                "sync_watermarks", "users")


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


@dataclass
class UiServer:
    """A running api-server with the plugin, its people and their passwords."""

    base_url: str
    store: Store
    passwords: dict[str, str]
    log: Path
    user_ids: dict[str, int] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app_url(self) -> str:
        return self.base_url + PREFIX

    def token(self, login: str) -> str:
        """An Airflow JWT for ``login`` from Airflow's own ``POST /auth/token``."""
        if login not in self._tokens:
            resp = httpx.post(
                f"{self.base_url}/auth/token", json={"username": login, "password": self.passwords[login]}, timeout=30
            )
            assert resp.status_code == 201, resp.text
            self._tokens[login] = resp.json()["access_token"]
        return self._tokens[login]

    def bearer(self, login: str) -> httpx.Client:
        """A client that authenticates as a script does: ``Authorization: Bearer``."""
        return httpx.Client(
            base_url=self.app_url, headers={"Authorization": f"Bearer {self.token(login)}"}, timeout=60
        )

    def browser_like(self, login: str) -> httpx.Client:
        """A client that authenticates as the Airflow UI does: the ``_token`` cookie, same-origin headers."""
        client = httpx.Client(base_url=self.app_url, headers={"Origin": self.base_url}, timeout=60)
        client.cookies.set("_token", self.token(login), domain="127.0.0.1", path="/")
        return client

    def reset_store(self) -> None:
        """Empty every table the app writes and create the linked people again."""
        with self.store.engine.begin() as conn:
            for table in STORE_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        self.user_ids.clear()
        with self.store.session() as session:
            for login, (_role, profile) in PEOPLE.items():
                if profile is not None:
                    self.user_ids[login] = repository.create_user(session, login=login, **profile).id


def start_api_server(home: Path, store_url: str, log: Path, extra_env: dict[str, str] | None = None):
    """Start ``airflow api-server`` on a free port; returns (process, base_url, passwords)."""
    passwords = {login: secrets.token_urlsafe(10) for login in PEOPLE}
    port = free_port()
    password_file = home / f"ui_test_passwords_{port}.json"
    password_file.write_text(json.dumps(passwords))
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SALES_CONNECT_DB_URL": store_url,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{role}" for u, (role, _) in PEOPLE.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        **(extra_env or {}),
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"api-server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{base_url}/api/v2/version", timeout=2).status_code in (200, 401):
                return proc, base_url, passwords
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_process_group(proc)
    raise RuntimeError(f"api-server did not answer within 120 s:\n{_tail(log)}")


def stop_process_group(proc: subprocess.Popen) -> None:
    """End the api-server and its uvicorn children (their own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class ServerFactory:
    """Starts api-servers with the plugin on one store; stops them all at the end of the session."""

    def __init__(self, home: Path, store: Store) -> None:
        self.home = home
        self.store = store
        self._procs: list[subprocess.Popen] = []

    def start(self, name: str, extra_env: dict[str, str] | None = None) -> UiServer:
        log = self.home / f"{name}.log"
        proc, base_url, passwords = start_api_server(self.home, str(self.store.url), log, extra_env)
        self._procs.append(proc)
        return UiServer(base_url=base_url, store=self.store, passwords=passwords, log=log)

    def stop_all(self) -> None:
        for proc in self._procs:
            stop_process_group(proc)


@pytest.fixture(scope="session")
def ui_servers(airflow_db: Path, pg_databases) -> Iterator[ServerFactory]:  # type: ignore[no-untyped-def]
    """Start more api-servers (e.g. with other settings) on the same PostgreSQL store."""
    store_url = pg_databases.create("ui")
    migrate(store_url)
    store = Store(store_url)
    factory = ServerFactory(airflow_db, store)
    try:
        yield factory
    finally:
        factory.stop_all()
        store.dispose()


@pytest.fixture(scope="session")
def ui_server(ui_servers: ServerFactory) -> UiServer:
    return ui_servers.start("ui-api-server")


@pytest.fixture
def ui(ui_server: UiServer) -> UiServer:
    """The shared server with a freshly emptied store (alice, bob and vera linked; nolink not)."""
    ui_server.reset_store()
    return ui_server


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
