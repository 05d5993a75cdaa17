"""Run the emulator as a subprocess and drive its control plane: for tests, the demo and benchmarks.

    with EmulatorProcess(state=tmp_path / "org.sqlite3") as emu:
        session = emu.requests_session()          # trusts the emulator's CA
        sf = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=session)
        emu.set_clock(datetime(2024, 5, 1, tzinfo=UTC))
        emu.add_fault("http_503", count=2, path="/query")
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import requests


class EmulatorError(RuntimeError):
    """The emulator failed to start, died, or its control plane refused a request."""


class EmulatorProcess:
    """`python -m sf_emulator` on a free port of 127.0.0.1, stopped on exit (terminate, then kill)."""

    def __init__(self, state: str | Path = ":memory:", *, seed: str = "default", api_limit: int | None = None,
                 port: int = 0, startup_timeout: float = 30.0, log_path: str | Path | None = None,
                 hostnames: tuple[str, ...] = ()) -> None:
        self.state = str(state)
        #: Extra names the TLS certificate covers (a client that insists on a `*.my.salesforce.com` URL).
        self.hostnames = hostnames
        self.seed_arg = seed
        self.api_limit = api_limit
        self.port = port
        self.startup_timeout = startup_timeout
        self._owns_log = log_path is None
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="sf-emulator-", suffix=".log")
            os.close(handle)
            log_path = name
        self.log_path = Path(log_path)
        self._proc: subprocess.Popen[str] | None = None
        self._info: dict[str, Any] = {}
        self._http: requests.Session | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> EmulatorProcess:
        if self._proc is not None:
            raise EmulatorError("the emulator is already running")
        command = [sys.executable, "-m", "sf_emulator", "--port", str(self.port), "--state", self.state,
                   "--seed", self.seed_arg]
        if self.api_limit is not None:
            command += ["--api-limit", str(self.api_limit)]
        for name in self.hostnames:
            command += ["--hostname", name]
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            log.close()
        try:
            self._info = json.loads(self._first_line())
        except (EmulatorError, json.JSONDecodeError) as exc:
            tail = self._log_tail()
            self.stop()
            raise EmulatorError(f"the emulator did not start: {exc}\n{tail}") from None
        return self

    def _first_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=0.2):
                    line = self._proc.stdout.readline()
                    if line:
                        return line
                if self._proc.poll() is not None:
                    raise EmulatorError(f"exited with status {self._proc.returncode}")
        raise EmulatorError(f"no start-up line within {self.startup_timeout:.0f}s")

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate (SIGTERM, a graceful shutdown), then kill if it has not exited within `timeout` seconds."""
        if self._http is not None:
            self._http.close()
            self._http = None
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()
        if self._owns_log:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- connection details ----------------------------------------------------------------------------------
    def _field(self, name: str) -> Any:
        if not self._info:
            raise EmulatorError("the emulator has not been started")
        return self._info[name]

    @property
    def instance_url(self) -> str:
        return self._field("instance_url")

    @property
    def session_id(self) -> str:
        """The session the emulator issued at start, for the org's integration user."""
        return self._field("session_id")

    @property
    def ca_bundle(self) -> str:
        return self._field("ca_bundle")

    @property
    def control_url(self) -> str:
        return self._field("control_url")

    @property
    def user_id(self) -> str:
        """The integration user's id (the start-up session's user)."""
        return self._field("user_id")

    @property
    def org_id(self) -> str:
        return self._field("org_id")

    def requests_session(self) -> requests.Session:
        """A new requests session that trusts the emulator's CA (hand it to Salesforce(session=...)).

        `trust_env` is off because requests lets a REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
        environment variable override `session.verify`; the emulator is on
        127.0.0.1, so no proxy settings are lost.
        """
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_bundle
        return session

    def airflow_connection(self) -> str:
        """JSON for an `AIRFLOW_CONN_<ID>` variable: a Salesforce connection in direct mode to this emulator.

        Pair it with `SalesforceHook(salesforce_conn_id=..., session_id=self.session_id,
        session=self.requests_session())`; the hook takes the session id only from its constructor.
        """
        return json.dumps({"conn_type": "salesforce", "extra": {"instance_url": self.instance_url, "version": "59.0"}})

    # -- control plane ---------------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None, *, timeout: float | None = 60,
                **params: Any) -> Any:
        """Call `/_emulator/<path>`; raises EmulatorError with the emulator's message on a non-2xx answer."""
        if self._http is None:
            self._http = self.requests_session()
        response = self._http.request(method, f"{self.control_url}/{path.lstrip('/')}", json=body,
                                      params=params or None, timeout=timeout)
        if not response.ok:
            raise EmulatorError(f"{method} /_emulator/{path} -> {response.status_code}: {response.text}")
        return response.json()

    def info(self) -> dict:
        """Instance URL, org id, integration user, all users, and the OAuth consumer key/secret."""
        return self.control("GET", "info")

    def clock(self) -> datetime:
        return datetime.fromisoformat(self.control("GET", "clock")["now"])

    def set_clock(self, now: datetime) -> datetime:
        """Jump the emulator's clock (timezone-aware `now`); it runs on from there. Purges the recycle bin."""
        if now.tzinfo is None:
            raise ValueError("set_clock needs a timezone-aware datetime")
        return datetime.fromisoformat(self.control("POST", "clock", {"now": now.isoformat()})["now"])

    def advance_clock(self, seconds: float) -> datetime:
        return datetime.fromisoformat(self.control("POST", "clock", {"advance_seconds": seconds})["now"])

    def counters(self) -> dict:
        """`{"total": n, "by_resource": {"query": n, ...}, "api_usage": {"used": n, "max": m}}`."""
        return self.control("GET", "counters")

    def reset_counters(self) -> dict:
        return self.control("POST", "counters/reset")

    def set_api_limit(self, daily_api_requests: int) -> dict:
        return self.control("POST", "limits", {"daily_api_requests": daily_api_requests})

    def set_replication_id_limit(self, ids: int) -> dict:
        """`updated/` and `deleted/` answer EXCEEDED_ID_LIMIT above `ids` matching ids (Salesforce: 600,000)."""
        return self.control("POST", "limits", {"replication_ids": ids})

    def empty_recycle_bin(self, before: datetime | None = None) -> int:
        """Hard-delete the recycle bin's rows (deleted before `before`, default all); returns how many."""
        body = {"before": before.isoformat()} if before is not None else {}
        return self.control("POST", "empty-recycle-bin", body)["purged"]

    def seed(self, users: list[dict] | None = None, tasks: list[dict] | None = None,
             generate_tasks: dict | None = None) -> dict:
        """Add users/tasks (system fields allowed); returns `{"users": [ids], "tasks": [ids], "generated": n}`."""
        document: dict[str, Any] = {}
        if users:
            document["users"] = users
        if tasks:
            document["tasks"] = tasks
        if generate_tasks:
            document["generate_tasks"] = generate_tasks
        # Generating a million tasks takes about a minute on a busy machine: no read timeout.
        return self.control("POST", "seed", document, timeout=None)

    def generate_tasks(self, count: int, **options: Any) -> int:
        """Bulk-insert `count` open tasks (options: owner_ids, modstamp_from, modstamp_to, subject_prefix)."""
        return self.seed(generate_tasks={"count": count, **options})["generated"]

    def add_fault(self, kind: str, *, count: int = 1, path: str | None = None, method: str | None = None,
                  delay_ms: int = 0) -> dict:
        """The next `count` matching requests fail: kind is http_503, http_500, expired_session, delay or
        response_lost (carried out, then answered 503)."""
        return self.control("POST", "faults", {"kind": kind, "count": count, "path": path, "method": method,
                                               "delay_ms": delay_ms})

    def lock_rows(self, ids: list[str], count: int | None = None) -> dict:
        """Writes to these Task ids fail with UNABLE_TO_LOCK_ROW (`count` times each, or until cleared)."""
        return self.control("POST", "faults", {"kind": "lock_rows", "ids": ids, "count": count})

    def change_field(self, field: str, object_name: str = "Task", **changes: Any) -> dict:
        """Change a custom field as an admin would: ``deleted=True``, ``visible=False`` (no field-level read
        access), ``external_id=False``, ``unique=False``, ``createable``/``updateable=False`` (read-only)."""
        return self.control("POST", "fields", {"object": object_name, "field": field, **changes})

    def restore_fields(self) -> dict:
        """Every custom field back as shipped (a reset does this too)."""
        return self.control("DELETE", "fields")

    def faults(self) -> dict:
        """The armed faults: `{"requests": [...], "row_locks": [...]}`."""
        return self.control("GET", "faults")

    def clear_faults(self) -> dict:
        return self.control("DELETE", "faults")

    def reset(self, seed: str | dict = "default") -> dict:
        """A fresh org (sessions kept): seed is 'default', 'empty' or a seed document."""
        return self.control("POST", "reset", {"seed": seed}, timeout=None)

    def archive(self) -> int:
        return self.control("POST", "archive")["archived"]

    def new_session(self, username: str | None = None) -> str:
        return self.control("POST", "sessions", {"username": username} if username else {})["session_id"]

    def refresh_token(self, username: str | None = None) -> str:
        """A refresh token for the user (default: the integration user), as the OAuth web-server flow hands out."""
        body: dict[str, Any] = {"refresh_token": True, **({"username": username} if username else {})}
        return self.control("POST", "sessions", body)["refresh_token"]

    def revoke_sessions(self, session_id: str | None = None) -> int:
        """Invalidate one session (or all of them, including the start-up session)."""
        params = {"session_id": session_id} if session_id else {}
        return self.control("DELETE", "sessions", **params)["revoked"]

    def tasks(self, ids: list[str] | None = None) -> list[dict]:
        """Raw task rows, deleted and archived included, with `LastWriteClient` and `DeletedDate`."""
        params = {"ids": ",".join(ids)} if ids else {}
        return self.control("GET", "tasks", **params)["records"]
