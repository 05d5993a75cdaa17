"""``AirflowStack``: the compose stack's services as local processes, for tests and demos.

One stack owns: a private AIRFLOW_HOME, two fresh PostgreSQL databases (Airflow
metadata and Sales Connect), a Redis key prefix (its Celery queues cannot meet
another stack's), free ports, and freshly generated shared secrets (fernet key,
JWT secret, API secret key) given to every component, as the compose file does
through ``.env``. Every started pid goes to a JSON state file so ``stop`` (or
``python -m airflow_stack stop``) can end them and drop the databases later.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from airflow_stack import pg, procs
from airflow_stack.client import AirflowClient
from airflow_stack.emulator import StackEmulator
from airflow_stack.hostname import HOSTNAME_ENV
from airflow_stack.ports import free_port

REPO = Path(__file__).resolve().parents[2]
EXECUTORS = ("CeleryExecutor", "LocalExecutor")
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
USERNAME = "admin"
# Inherited settings that would leak another Airflow home or Sales Connect store into the stack
# (e.g. SALES_CONNECT_DB_URL outranks the stack's sales_connect_db connection); pass what a
# stack should have through ``extra_env``.
_FOREIGN_ENV_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "SALES_CONNECT_")
_FOREIGN_ENV_KEYS = ("AIRFLOW_HOME", "AIRFLOW_CONFIG", "SALESFORCE_CA_BUNDLE")


class StackError(RuntimeError):
    """The stack could not start (the message ends with the failing component's log tail)."""


def _tail(path: str | Path, lines: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(what: str, check: Callable[[], bool], timeout: float, log: str | Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise StackError(f"{what} not ready after {timeout:.0f}s" + (f"; {log}:\n{_tail(log)}" if log else ""))


class AirflowStack:
    """A local Airflow deployment (CeleryExecutor with N workers, or LocalExecutor).

    Use as a context manager; ``base_url`` and the REST helpers work once it is
    entered. Login: user ``admin``, password ``stack.password`` (generated
    unless given).
    """

    def __init__(
        self,
        executor: str = "CeleryExecutor",
        workers: int = 2,
        worker_concurrency: int = 2,
        dags_folder: str | Path | None = None,
        plugins_folder: str | Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        *,
        emulator: bool = True,
        triggerer: bool = True,
        password: str | None = None,
        state_file: str | Path | None = None,
        home: str | Path | None = None,
        pg_admin_url: str | None = None,
        redis_url: str | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        if executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}, not {executor!r}")
        if executor == "CeleryExecutor" and workers < 1:
            raise ValueError("CeleryExecutor needs at least one worker")
        self.executor = executor
        self.workers = workers if executor == "CeleryExecutor" else 0
        self.worker_concurrency = worker_concurrency
        self.dags_folder = Path(dags_folder or REPO / "dags").resolve()
        self.plugins_folder = Path(plugins_folder or REPO / "plugins").resolve()
        if not self.dags_folder.is_dir():
            raise ValueError(f"dags folder {self.dags_folder} does not exist")
        self.extra_env = dict(extra_env or {})
        self.with_emulator = emulator
        self.with_triggerer = triggerer
        self.password = password or secrets.token_urlsafe(12)
        self.pg_admin_url = pg_admin_url or os.environ.get("AIRFLOW_STACK_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)
        self.redis_url = redis_url or os.environ.get("AIRFLOW_STACK_REDIS_URL", DEFAULT_REDIS_URL)
        self.startup_timeout = startup_timeout
        self.tag = uuid.uuid4().hex[:10]
        self._own_home = home is None
        self.home = Path(home) if home else Path(tempfile.mkdtemp(prefix=f"airflow-stack-{self.tag}-"))
        self.state_file = Path(state_file) if state_file else self.home / "stack.json"
        self.databases = {
            "airflow": f"afstack_{self.tag}_airflow",
            "sales_connect": f"afstack_{self.tag}_sales_connect",
        }
        self.redis_prefix = f"afstack-{self.tag}:"
        self.api_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.worker_names = [f"worker{i}@{socket.gethostname()}" for i in range(1, self.workers + 1)]
        self.emulator_info: dict[str, Any] | None = None
        self._emulator: StackEmulator | None = None
        self._records: list[procs.ProcessRecord] = []
        self._popens: list[subprocess.Popen] = []
        self._client: AirflowClient | None = None
        self._env: dict[str, str] = {}

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> AirflowStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> AirflowStack:
        """Create databases, migrate, start every component and wait until all report healthy."""
        if self.state_file.exists():
            self._remove_own_home()
            raise StackError(f"{self.state_file} exists: another stack owns it (stop it first)")
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            pg.create_databases(self.pg_admin_url, self.databases.values())
            self._save_state()
            self._env = self._common_env()
            if self.with_emulator:
                self._start_emulator()
            self._migrate()
            self._start_airflow()
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[int]:
        """End every process (descendants included), drop the databases and Redis keys; return the pids ended."""
        if self._emulator is not None:
            self._emulator.stop()
        if self._client is not None:
            self._client.close()
            self._client = None
        ended = _teardown(self._state())
        for popen in self._popens:
            popen.wait(timeout=10)  # reap, so no zombie is left behind
        self._popens.clear()
        self._remove_own_home()
        return ended

    def _remove_own_home(self) -> None:
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    # ------------------------------------------------------------- environment
    def _common_env(self) -> dict[str, str]:
        meta = pg.database_url(self.pg_admin_url, self.databases["airflow"])
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_FOREIGN_ENV_PREFIXES) and k not in _FOREIGN_ENV_KEYS
        }
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "SALES_CONNECT_VAR": str(self.home / "var"),
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.plugins_folder),
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self._write_passwords()),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW_CONN_SALES_CONNECT_DB": json.dumps(self._sales_connect_conn()),
            }
        )
        if self.executor == "CeleryExecutor":
            env["AIRFLOW__CELERY__BROKER_URL"] = self.redis_url
            # psycopg2 spelled out: plain db+postgresql:// picks psycopg v3 (airflow.md §9).
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + meta
            env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX"] = self.redis_prefix
        return env

    def _write_passwords(self) -> Path:
        """Pre-seed the simple auth manager's password file so the login is known (it only generates missing ones)."""
        path = self.home / "simple_auth_manager_passwords.json"
        path.write_text(json.dumps({USERNAME: self.password}) + "\n")
        path.chmod(0o600)
        return path

    def _sales_connect_conn(self) -> dict[str, Any]:
        url = make_url(pg.database_url(self.pg_admin_url, self.databases["sales_connect"]))
        conn: dict[str, Any] = {
            "conn_type": "postgres",
            "host": url.host,
            "port": url.port or 5432,
            "login": url.username,
            "schema": url.database,
        }
        if url.password:
            conn["password"] = url.password
        return conn

    # -------------------------------------------------------------- components
    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> procs.ProcessRecord:
        popen, record = procs.spawn(name, argv, env or self._env, self.home / "logs")
        self._popens.append(popen)
        self._records.append(record)
        self._save_state()
        return record

    def _start_emulator(self) -> None:
        """Start the Salesforce emulator and wire ``salesforce_default`` to it."""
        state = self.home / "sf_emulator" / "org.sqlite3"
        state.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "sf_emulator", "--port", str(free_port()), "--state", str(state)]
        record = self._spawn("sf-emulator", argv)
        info: dict[str, Any] = {}

        def announced() -> bool:
            # The emulator's first stdout line is its JSON announcement (instance_url, session_id, ca_bundle).
            first = Path(record.log).read_text(errors="replace").partition("\n")
            if first[1]:
                info.update(json.loads(first[0]))
                return True
            if not procs.is_alive(record.pid):
                raise StackError(f"sf-emulator exited during start; {record.log}:\n{_tail(record.log)}")
            return False

        _wait("sf-emulator", announced, 60, record.log)
        self.emulator_info = info
        self._emulator = StackEmulator(info, record.log)
        self._env["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = json.dumps(self._salesforce_conn())

    def _salesforce_conn(self) -> dict[str, Any]:
        """``salesforce_default`` as the sync reads it: OAuth client credentials at the emulator, its CA.

        A fresh token per (re)connect, so a long run or a restarted emulator never leaves the
        workers holding an expired session (task_sync.connections).
        """
        assert self._emulator is not None and self.emulator_info is not None
        extra = {
            "instance_url": self.emulator_info["instance_url"],
            **self._emulator.client_credentials(),
            "ca_bundle": self.emulator_info["ca_bundle"],
        }
        return {"conn_type": "salesforce", "extra": extra}

    def _migrate(self) -> None:
        log = self.home / "logs" / "db-migrate.log"
        env = {**self._env, **self.extra_env}
        with open(log, "wb") as out:
            done = subprocess.run(["airflow", "db", "migrate"], env=env, stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise StackError(f"airflow db migrate failed ({done.returncode}); {log}:\n{_tail(log)}")

    def _start_airflow(self) -> None:
        env = {**self._env, **self.extra_env}
        self._spawn(
            "api-server",
            ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"],
            env,
        )
        # The scheduler serves task logs when LocalExecutor runs tasks in it; give it its own port.
        self._spawn(
            "scheduler",
            ["airflow", "scheduler"],
            {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
        )
        self._spawn("dag-processor", ["airflow", "dag-processor"], env)
        if self.with_triggerer:
            self._spawn("triggerer", ["airflow", "triggerer"], env)
        for i, name in enumerate(self.worker_names, start=1):
            worker_env = {
                **env,
                # Two workers on one machine each need their own log server port.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                # Task instances then record the Celery node name, so a test sees which worker ran what.
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_stack.hostname.stack_hostname",
                HOSTNAME_ENV: name,
                **self.extra_env,
            }
            argv = [
                "airflow",
                "celery",
                "worker",
                "-q",
                "default",
                "-c",
                str(self.worker_concurrency),
                "--celery-hostname",
                f"worker{i}@%h",
                "--pid",
                str(self.home / f"worker{i}.pid"),
            ]
            self._spawn(f"worker{i}", argv, worker_env)

    # ----------------------------------------------------------------- health
    def _record(self, name: str) -> procs.ProcessRecord:
        return next(r for r in self._records if r.name == name)

    def _alive_or_fail(self, name: str) -> None:
        record = self._record(name)
        if not procs.is_alive(record.pid):
            raise StackError(f"{name} exited during start; {record.log}:\n{_tail(record.log)}")

    def _http_ok(self, name: str, url: str) -> bool:
        self._alive_or_fail(name)
        try:
            return httpx.get(url, timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait_healthy(self) -> None:
        timeout = self.startup_timeout
        api_log = self._record("api-server").log
        _wait("api-server", lambda: self._http_ok("api-server", f"{self.base_url}/api/v2/version"), timeout, api_log)
        port = self._env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"]
        sched_log = self._record("scheduler").log
        _wait("scheduler", lambda: self._http_ok("scheduler", f"http://127.0.0.1:{port}/health"), timeout, sched_log)
        components = ["dag_processor"] + (["triggerer"] if self.with_triggerer else [])

        def monitor_healthy() -> bool:
            self._alive_or_fail("dag-processor")
            health = self.client.health()
            return all((health.get(c) or {}).get("status") == "healthy" for c in components)

        _wait(" and ".join(components), monitor_healthy, timeout, self._record("dag-processor").log)
        if self.workers:
            _wait("celery workers", self._workers_answer, timeout, self._record("worker1").log)

    def _workers_answer(self) -> bool:
        """True once every worker answers a Celery ping through this stack's (prefixed) broker."""
        from celery import Celery

        for name in self.worker_names:
            self._alive_or_fail(name.split("@")[0])
        app = Celery(broker=self.redis_url, broker_transport_options={"global_keyprefix": self.redis_prefix})
        try:
            replies = app.control.ping(timeout=1.0)
        finally:
            app.close()
        answered = {node for reply in replies for node in reply}
        return answered >= {f"celery@{n}" for n in self.worker_names} or answered >= set(self.worker_names)

    # ------------------------------------------------------------------ state
    def _state(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "executor": self.executor,
            "base_url": self.base_url,
            "username": USERNAME,
            "password": self.password,
            "home": str(self.home),
            "own_home": self._own_home,
            "pg_admin_url": self.pg_admin_url,
            "databases": list(self.databases.values()),
            "redis_url": self.redis_url,
            "redis_prefix": self.redis_prefix,
            "worker_names": self.worker_names,
            "state_file": str(self.state_file),
            "processes": [r.to_json() for r in self._records],
        }

    def _save_state(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state(), indent=2))
        tmp.chmod(0o600)  # it holds the login
        tmp.replace(self.state_file)

    # -------------------------------------------------------------- test API
    @property
    def client(self) -> AirflowClient:
        if self._client is None:
            self._client = AirflowClient(self.base_url, USERNAME, self.password)
        return self._client

    @property
    def emulator(self) -> StackEmulator:
        """The control plane of the stack's Salesforce emulator (seed, faults, counters, task rows)."""
        if self._emulator is None:
            raise StackError("this stack runs without the Salesforce emulator")
        return self._emulator

    @property
    def username(self) -> str:
        return USERNAME

    @property
    def env(self) -> dict[str, str]:
        """The environment every component got (for running ``airflow`` CLI commands against this stack)."""
        return {**self._env, **self.extra_env}

    @property
    def pids(self) -> dict[str, int]:
        """Component name -> pid of every process the stack started."""
        return {r.name: r.pid for r in self._records}

    @property
    def worker_pids(self) -> list[int]:
        return [self._record(f"worker{i}").pid for i in range(1, self.workers + 1)]

    def all_pids(self) -> list[int]:
        """Every live pid of the stack right now: components and all their descendants (task processes too)."""
        return [p.pid for p in procs.process_tree(self._records)]

    def kill_worker(self, index: int) -> list[int]:
        """SIGKILL worker ``index`` (0-based) with all its task processes, like a lost machine; return the pids."""
        return procs.kill_now([self._record(f"worker{index + 1}")])

    def token(self) -> str:
        return self.client.token()

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict[str, Any]:
        return self.client.wait_for_dag(dag_id, timeout)

    def unpause(self, dag_id: str) -> None:
        self.client.wait_for_dag(dag_id)
        self.client.unpause(dag_id)

    def pause(self, dag_id: str) -> None:
        self.client.wait_for_dag(dag_id)
        self.client.set_paused(dag_id, True)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        self.client.wait_for_dag(dag_id)
        return self.client.trigger(dag_id, conf)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180.0) -> str:
        return self.client.wait_for_run(dag_id, run_id, timeout)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.client.task_instances(dag_id, run_id)

    def explain_failure(self, dag_id: str, run_id: str) -> str:
        return self.client.explain_failure(dag_id, run_id)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        return self.client.xcom(dag_id, run_id, task_id, key, map_index)


def _teardown(state: Mapping[str, Any]) -> list[int]:
    """Stop what ``state`` describes: processes (workers first), databases, Redis keys, state file."""
    records = [procs.ProcessRecord(**p) for p in state["processes"]]
    ended: list[int] = []
    for record in reversed(records):
        ended += procs.terminate([record])
    pg.drop_databases(state["pg_admin_url"], state["databases"])
    _delete_redis_keys(state["redis_url"], state["redis_prefix"])
    Path(state["state_file"]).unlink(missing_ok=True)
    return ended


def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def load_state(state_file: str | Path) -> dict[str, Any]:
    path = Path(state_file)
    if not path.exists():
        raise StackError(f"no stack state at {path} (already stopped?)")
    return json.loads(path.read_text())


def stop_stack(state_file: str | Path) -> list[int]:
    """Stop a stack started elsewhere (e.g. by ``python -m airflow_stack up``) from its state file."""
    state = load_state(state_file)
    ended = _teardown(state)
    if state.get("own_home"):
        shutil.rmtree(state["home"], ignore_errors=True)
    return ended
