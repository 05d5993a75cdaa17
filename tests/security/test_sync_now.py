""""Sync now" clicked again and again (issue 12 #6): one run per rep at a time.

This api-server has the sync DAG registered (``airflow dags reserialize``) in a
metadata database of its own, and no scheduler: a triggered run stays queued,
which is exactly the window in which more clicks used to queue more runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sales_connect import repository

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DAG_ID = "sales_connect_task_sync"


@pytest.fixture(scope="module")
def dag_server(ui_servers, airflow_db: Path):  # type: ignore[no-untyped-def]
    """An api-server whose Airflow knows the sync DAG (a copy of the session's migrated metadata DB)."""
    meta = airflow_db / "sync_now_meta.db"
    shutil.copyfile(airflow_db / "airflow.db", meta)
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{meta}"}
    proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), "dags", "reserialize"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return ui_servers.start("sync-now-api-server", env)


@pytest.fixture
def rep(dag_server):  # type: ignore[no-untyped-def]
    dag_server.reset_store()
    with dag_server.store.session() as session:
        for login in ("alice", "bob"):
            repository.set_sync_enabled(session, dag_server.user_ids[login], True)
    return dag_server


def _runs(server, login: str) -> list[dict]:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.token(login)}"}) as api:
        resp = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100})
    assert resp.status_code == 200, resp.text
    return resp.json()["dag_runs"]


def test_ten_clicks_queue_one_run_and_all_join_it(rep) -> None:
    before = len(_runs(rep, "alice"))

    def click(_: int) -> dict:
        with rep.bearer("alice") as client:
            resp = client.post("/api/sync/runs")
        assert resp.status_code == 200, resp.text
        return resp.json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(click, range(10)))
    run_ids = {a["dag_run_id"] for a in answers}
    assert len(run_ids) == 1 and None not in run_ids, answers
    assert sorted(a["joined"] for a in answers) == [False] + [True] * 9
    assert len(_runs(rep, "alice")) == before + 1
    joined = next(a for a in answers if a["joined"])
    assert joined["message"] == "A sync run for you is already queued; this click joins it."


def test_another_reps_run_is_not_joined(rep) -> None:
    with rep.bearer("alice") as alice, rep.bearer("bob") as bob:
        mine = alice.post("/api/sync/runs").json()
        theirs = bob.post("/api/sync/runs").json()
        again = alice.post("/api/sync/runs").json()
    assert theirs["dag_run_id"] != mine["dag_run_id"] and not theirs["joined"]
    assert again["dag_run_id"] == mine["dag_run_id"] and again["joined"]


def test_a_preview_is_not_joined_by_sync_now(rep) -> None:
    with rep.bearer("alice") as alice:
        preview = alice.post("/api/sync/preview").json()
        sync = alice.post("/api/sync/runs").json()
    assert preview["dag_run_id"] and sync["dag_run_id"] and preview["dag_run_id"] != sync["dag_run_id"]
    assert not sync["joined"]
