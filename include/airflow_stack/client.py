"""The few Airflow REST API calls a test or demo needs, as a small typed client.

It talks to the public API exactly like an operator's script would: a JWT
from ``POST /auth/token`` (simple auth manager login), then ``/api/v2``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

FINISHED_RUN_STATES = frozenset({"success", "failed"})


class ApiError(RuntimeError):
    """The API answered with an unexpected status; the message carries the body."""


class AirflowClient:
    """REST client for one api-server, logging in on first use."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._token: str | None = None
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def token(self) -> str:
        """A fresh access token for the stack's user (``POST /auth/token``)."""
        resp = self._http.post("/auth/token", json={"username": self._username, "password": self._password})
        _expect(resp, 201, 200)
        self._token = resp.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """Call the API with the cached token, logging in again once if it was refused."""
        if self._token is None:
            self.token()
        resp = self._http.request(method, path, headers={**(headers or {}), **self._auth()}, **kwargs)
        if resp.status_code == 401:
            self.token()
            resp = self._http.request(method, path, headers={**(headers or {}), **self._auth()}, **kwargs)
        return resp

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG as the API sees it, or None while the dag-processor has not stored it yet."""
        resp = self.request("GET", f"/api/v2/dags/{dag_id}")
        if resp.status_code == 404:
            return None
        _expect(resp, 200)
        return resp.json()

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Block until the dag-processor has parsed ``dag_id``; raise with its import errors if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dag = self.get_dag(dag_id)
            if dag is not None:
                return dag
            time.sleep(1.0)
        errors = self.request("GET", "/api/v2/importErrors").json().get("import_errors", [])
        raise TimeoutError(f"DAG {dag_id!r} did not appear within {timeout:.0f}s; import errors: {errors}")

    def unpause(self, dag_id: str) -> None:
        self.set_paused(dag_id, False)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        resp = self.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": paused})
        _expect(resp, 200)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Create a manual run with a null logical date (airflow.md §3) and return its run id."""
        resp = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        _expect(resp, 200)
        return resp.json()["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        resp = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        _expect(resp, 200)
        return resp.json()["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180.0) -> str:
        """Poll until the run finishes; return ``success`` or ``failed``; TimeoutError names the task states."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.run_state(dag_id, run_id)
            if state in FINISHED_RUN_STATES:
                return state
            if time.monotonic() >= deadline:
                tasks = [(ti["task_id"], ti["map_index"], ti["state"]) for ti in self.task_instances(dag_id, run_id)]
                raise TimeoutError(f"run {run_id} of {dag_id} still {state!r} after {timeout:.0f}s; tasks: {tasks}")
            time.sleep(1.0)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (mapped ones included), with ``hostname``, ``state``, ``pid``..."""
        found: list[dict[str, Any]] = []
        while True:
            resp = self.request(
                "GET",
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": len(found)},
            )
            _expect(resp, 200)
            body = resp.json()
            found += body["task_instances"]
            if not body["task_instances"] or len(found) >= body["total_entries"]:
                return found

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """A task's XCom value, deserialized by the API."""
        resp = self.request(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index, "deserialize": "true"},
        )
        _expect(resp, 200)
        return resp.json()["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        """A task attempt's log as text (events, plus exception type and message where one was raised)."""
        resp = self.request(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index},
            headers={"Accept": "application/json"},
        )
        _expect(resp, 200)
        return "\n".join(_log_line(line) for line in resp.json().get("content", []))

    def explain_failure(self, dag_id: str, run_id: str) -> str:
        """The logs of the run's failed task instances, for an assertion message."""
        parts = []
        for ti in self.task_instances(dag_id, run_id):
            if ti["state"] not in ("failed", "upstream_failed", "up_for_retry"):
                continue
            head = f"--- {ti['task_id']}[{ti['map_index']}] {ti['state']} (try {ti['try_number']}, {ti['hostname']})"
            # A task that never started (upstream_failed) has no log to show.
            log = self.task_log(dag_id, run_id, ti["task_id"], ti["try_number"], ti["map_index"]) if ti[
                "try_number"] else ""
            parts.append(f"{head}\n{log}" if log else head)
        states = sorted({ti["state"] or "none" for ti in self.task_instances(dag_id, run_id)})
        return "\n".join(parts) or f"no failed task in {run_id} (task states: {', '.join(states)})"

    def health(self) -> dict[str, Any]:
        """``/api/v2/monitor/health``: metadatabase, scheduler, triggerer and dag-processor heartbeats."""
        resp = self._http.get("/api/v2/monitor/health")
        _expect(resp, 200)
        return resp.json()


def _log_line(line: Any) -> str:
    if not isinstance(line, dict):
        return str(line)
    errors = [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in line.get("error_detail") or []]
    return " | ".join([str(line.get("event", "")), *errors])


def _expect(resp: httpx.Response, *statuses: int) -> None:
    if resp.status_code not in statuses:
        raise ApiError(f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text[:2000]}")
