"""Starting and watching the sync DAG through Airflow's REST API, as the signed-in user.

The plugin holds no Airflow password: it forwards the caller's own JWT (the
Bearer header they sent, or the UI's ``_token`` cookie) as
``Authorization: Bearer``, so Airflow applies that person's permissions and
its audit log names them. Every way this can go wrong (DAG not deployed,
paused, the role may not trigger runs, API unreachable) comes back as a
``SyncStart`` with a sentence the page shows as it is.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import httpx
from airflow.configuration import conf
from fastapi import Request

from task_sync.run_requests import ACTIVE_STATES
from task_sync.settings import DAG_ID

# Where this api-server's own REST API is, when neither [api] base_url nor the
# request's host reaches it (e.g. a proxy that the server itself cannot call).
ENV_API_URL = "SALES_CONNECT_AIRFLOW_API_URL"
TIMEOUT_SECONDS = 15.0

# Problems the page explains; None means the run was started normally.
DAG_MISSING = "dag_missing"
DAG_PAUSED = "dag_paused"
FORBIDDEN = "forbidden"
UNREACHABLE = "unreachable"
REFUSED = "refused"



@dataclass(frozen=True)
class SyncStart:
    """The outcome of asking Airflow for a sync run."""

    dag_run_id: str | None
    state: str | None
    problem: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def api_base_url(request: Request) -> str:
    """This Airflow's REST API root: ``$SALES_CONNECT_AIRFLOW_API_URL`` > ``[api] base_url`` > the request's origin."""
    explicit = os.environ.get(ENV_API_URL) or conf.get("api", "base_url", fallback="") or ""
    if explicit:
        return explicit.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


class AirflowApi:
    """The three calls the pages need, made with the caller's token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )

    def __enter__(self) -> AirflowApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def _dag_path(self) -> str:
        return f"/api/v2/dags/{quote(DAG_ID, safe='')}"

    def trigger_sync(self, conf_: dict[str, Any], if_not_started: str = "") -> SyncStart:
        """Start a run of the sync DAG with ``conf_`` (null logical date, as a manual run).

        ``if_not_started`` ends the message when no run could be started (what still holds, e.g. the saved setting).
        """
        try:
            dag = self._http.get(self._dag_path())
            if dag.status_code == 404:
                return SyncStart(
                    None,
                    None,
                    DAG_MISSING,
                    f"The sync DAG {DAG_ID!r} is not in Airflow (not deployed, or its file fails to import), "
                    f"so no sync was started. {if_not_started}",
                )
            if dag.status_code != 200:
                return self._refused(dag, "look up", if_not_started)
            run = self._http.post(f"{self._dag_path()}/dagRuns", json={"logical_date": None, "conf": conf_})
        except httpx.HTTPError as exc:
            return SyncStart(
                None, None, UNREACHABLE, f"Could not reach Airflow's API at {self.base_url}: {exc}. {if_not_started}"
            )
        if run.status_code not in (200, 201):
            return self._refused(run, "start", if_not_started)
        body = run.json()
        if dag.json().get("is_paused"):
            return SyncStart(
                body["dag_run_id"],
                body.get("state"),
                DAG_PAUSED,
                f"The sync DAG {DAG_ID!r} is paused in Airflow: the sync run is queued and starts as soon as "
                "someone unpauses the DAG.",
            )
        return SyncStart(body["dag_run_id"], body.get("state"), None, "Sync started.")

    def active_runs(self) -> list[dict[str, Any]]:
        """The sync DAG's queued and running runs (Airflow's JSON); empty when Airflow cannot say."""
        params = [("state", state) for state in ACTIVE_STATES] + [("limit", "100")]
        try:
            resp = self._http.get(f"{self._dag_path()}/dagRuns", params=params)
        except httpx.HTTPError:
            return []  # trigger_sync then reports Airflow unreachable
        return list(resp.json().get("dag_runs") or []) if resp.status_code == 200 else []

    def run_state(self, dag_run_id: str) -> str | None:
        """The Airflow state of one run of the sync DAG (queued, running, success, failed), None if unknown."""
        resp = self._http.get(f"{self._dag_path()}/dagRuns/{quote(dag_run_id, safe='')}")
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp.json().get("state")

    def _refused(self, resp: httpx.Response, action: str, if_not_started: str) -> SyncStart:
        if resp.status_code in (401, 403):
            return SyncStart(
                None,
                None,
                FORBIDDEN,
                f"Airflow did not let your login {action} the sync DAG {DAG_ID!r} (HTTP {resp.status_code}: "
                f"your Airflow role may not trigger DAG runs). {if_not_started}",
            )
        return SyncStart(
            None,
            None,
            REFUSED,
            f"Airflow refused to {action} the sync DAG (HTTP {resp.status_code}: {_detail(resp)}). {if_not_started}",
        )


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail")
    except ValueError:
        detail = None
    return str(detail or resp.text[:200])
