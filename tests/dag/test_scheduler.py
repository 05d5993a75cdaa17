"""The sync under a real scheduler (LocalExecutor): REST-triggered, asset-triggered and backfill runs.

``dag.test()`` lets a task use Airflow's ORM; a real deployment does not (airflow.md §1). Here
the api-server, scheduler and dag-processor run as separate processes (``airflow_stack``), the
tasks reach Airflow only through the Execution API, Salesforce is the emulator and Sales Connect
a PostgreSQL database -- so a green run proves our tasks need nothing but what Airflow 3 allows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from dag_harness import SyncHarness, now
from sqlalchemy import select

from airflow_stack import AirflowStack
from sales_connect.models import SyncRun
from sf_emulator.process import EmulatorProcess
from task_sync import ledger

DAG_ID = "sales_connect_task_sync"
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def world(emulator: EmulatorProcess, sync_dag, pg_databases) -> Iterator[tuple[AirflowStack, SyncHarness]]:
    """A LocalExecutor stack whose sync reaches the test's emulator and a PostgreSQL store."""
    emulator.reset()
    store_url = pg_databases.create("scheduler_store")
    harness = SyncHarness(emulator, sync_dag, store_url)  # its run() is not used: the scheduler runs the DAG
    conn = {"conn_type": "salesforce", "extra": {
        "instance_url": emulator.instance_url, "session_id": emulator.session_id, "ca_bundle": emulator.ca_bundle}}
    stack = AirflowStack("LocalExecutor", emulator=False, triggerer=False, extra_env={
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps(conn),
        "SALES_CONNECT_DB_URL": store_url,
        "SALES_CONNECT_SYNC_SHARDS": "2",
        "SALES_CONNECT_SYNC_LOCK_RETRY_SECONDS": "5",  # a run waiting for the run lock looks again soon
    })
    with stack:
        stack.unpause(DAG_ID)  # from now on the scheduler also makes a scheduled run every 5 minutes
        yield stack, harness
    harness.close()


def _runs(stack: AirflowStack) -> list[dict[str, Any]]:
    resp = stack.client.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100})
    assert resp.status_code == 200, resp.text
    return resp.json()["dag_runs"]


def _backfill(stack: AirflowStack, start: dt.datetime, end: dt.datetime, reprocess: str,
              timeout: float = 420, max_active_runs: int = 1) -> list[dict[str, Any]]:
    """Create a backfill through the REST API, wait until Airflow completes it; return its runs."""
    before = {r["dag_run_id"]: r.get("end_date") for r in _runs(stack)}
    body = {"dag_id": DAG_ID, "from_date": start.isoformat(), "to_date": end.isoformat(),
            "reprocess_behavior": reprocess, "max_active_runs": max_active_runs, "run_backwards": False,
            "dag_run_conf": {}}
    resp = stack.client.request("POST", "/api/v2/backfills", json=body)
    assert resp.status_code == 200, resp.text
    backfill_id = resp.json()["id"]
    deadline = time.monotonic() + timeout
    while stack.client.request("GET", f"/api/v2/backfills/{backfill_id}").json().get("completed_at") is None:
        assert time.monotonic() < deadline, f"backfill {backfill_id} not completed after {timeout:.0f}s"
        time.sleep(2)
    return [r for r in _runs(stack) if r["run_type"] == "backfill"
            and (r["dag_run_id"] not in before or before[r["dag_run_id"]] != r.get("end_date"))]


def _history(harness: SyncHarness, run_id: str) -> SyncRun:
    """The latest history row of a DAG run (a backfill that reprocesses a scheduled run adds a row)."""
    with harness.store.session() as s:
        return s.scalars(select(SyncRun).where(SyncRun.dag_run_id == run_id).order_by(SyncRun.id.desc())).first()


def test_a_rest_triggered_run_syncs_both_ways_under_a_real_scheduler(world) -> None:
    stack, harness = world
    rep = harness.rep(0)
    harness.sf_create(rep.owner_id, "call Dana back")
    harness.sc_create(rep, "send the pricing deck")

    run_id = stack.trigger(DAG_ID, {"dry_run": False})
    state = stack.wait_for_run(DAG_ID, run_id, timeout=300)

    assert state == "success", stack.explain_failure(DAG_ID, run_id)
    assert sorted(t.subject for t in harness.sc_tasks(rep)) == ["call Dana back", "send the pricing deck"]
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == ["call Dana back", "send the pricing deck"]
    history = _history(harness, run_id)
    assert history.status == "success" and history.run_type == "manual" and history.api_calls > 0
    # The watermarks are an XCom the UI shows (the one user's shard, and the getDeleted cursor),
    # and the ledger holds them too (a later scheduled run may only have moved them on).
    published = stack.xcom(DAG_ID, run_id, "publish_watermarks")
    with harness.store.session() as s:
        durable = {key: mark.as_json() for key, mark in ledger.load_watermarks(s).items()}
    assert len(published) == 2 and "deletions" in published and set(published) <= set(durable)
    for key, mark in published.items():
        assert (durable[key]["sf_modstamp"] or "") >= (mark["sf_modstamp"] or "")
        assert durable[key]["sc_seq"] >= mark["sc_seq"]


def test_an_asset_event_starts_a_run_that_syncs_at_once(world) -> None:
    stack, harness = world
    rep = harness.rep(2)
    harness.sf_create(rep.owner_id, "made in Salesforce before the asset event")
    harness.sc_create(rep, "made in Sales Connect before the asset event")
    resp = stack.client.request("GET", "/api/v2/assets", params={"limit": 100})
    (asset,) = [a for a in resp.json()["assets"] if a["name"] == "sales_connect_sync_requests"]
    before = {r["dag_run_id"] for r in _runs(stack)}

    resp = stack.client.request("POST", "/api/v2/assets/events",
                                json={"asset_id": asset["id"], "extra": {"user_id": rep.user_id}})
    assert resp.status_code in (200, 201), resp.text

    deadline = time.monotonic() + 300
    while not (runs := [r for r in _runs(stack) if r["dag_run_id"] not in before
                        and r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed")]):
        assert time.monotonic() < deadline, _runs(stack)
        time.sleep(2)
    (run,) = runs
    assert run["state"] == "success", stack.explain_failure(DAG_ID, run["dag_run_id"])
    assert run["logical_date"] is None
    assert _history(harness, run["dag_run_id"]).run_type == "asset_triggered"
    subjects = ["made in Sales Connect before the asset event", "made in Salesforce before the asset event"]
    assert sorted(t.subject for t in harness.sc_tasks(rep)) == subjects
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == subjects


def test_a_recent_backfill_replays_idempotently_and_never_overwrites_newer_data(world) -> None:
    stack, harness = world
    rep = harness.rep(1)
    started = now()
    sf_id = harness.sf_create(rep.owner_id, "renew the contract")
    sc_id = harness.sc_create(rep, "book the QBR")
    first = stack.trigger(DAG_ID)
    assert stack.wait_for_run(DAG_ID, first, timeout=300) == "success", stack.explain_failure(DAG_ID, first)
    # Newer data on both sides, made after the window the backfill replays was first synced.
    imported = harness.sc_by_subject(rep, "renew the contract")
    harness.sc_update(rep, imported.id, subject="renew the contract (3 years)")
    harness.sf_update(harness.link_of(sc_id).sf_id, Subject="book the QBR for March")

    # Airflow's default for a backfill: its runs count against the backfill's 10, not the DAG's 1.
    runs = _backfill(stack, started - dt.timedelta(minutes=10), now(), reprocess="completed", max_active_runs=10)

    failures = [stack.explain_failure(DAG_ID, r["dag_run_id"]) for r in runs if r["state"] != "success"]
    assert runs and failures == [], failures
    assert all(_history(harness, r["dag_run_id"]).run_type == "backfill" for r in runs)
    # The replay rolled nothing back; the edits made after its windows are the next run's work.
    assert "renew the contract (3 years)" in {t.subject for t in harness.sc_tasks(rep)}
    assert "book the QBR for March" in {t["Subject"] for t in harness.sf_tasks(rep.owner_id)}
    after = stack.trigger(DAG_ID)
    assert stack.wait_for_run(DAG_ID, after, timeout=300) == "success", stack.explain_failure(DAG_ID, after)
    sc = Counter(t.subject for t in harness.sc_tasks(rep))
    sf = Counter(t["Subject"] for t in harness.sf_tasks(rep.owner_id))
    assert sc == sf == Counter({"renew the contract (3 years)": 1, "book the QBR for March": 1}), (sc, sf)
    assert harness.sf_task(sf_id)["Subject"] == "renew the contract (3 years)"
    # The scheduled runs the scheduler made since the DAG was unpaused ran among all these.
    assert [r for r in _runs(stack) if r["run_type"] == "scheduled" and r["state"] == "failed"] == []
    # ...and no two sync runs ever overlapped: backfill beside backfill, backfill beside schedule.
    with harness.store.session() as s:
        spans = sorted((h.started_at, h.finished_at, h.dag_run_id) for h in s.scalars(select(SyncRun)))
    overlapping = [(a[2], b[2]) for a, b in itertools.pairwise(spans) if a[1] is None or b[0] < a[1]]
    assert overlapping == [], overlapping


def test_a_backfill_older_than_30_days_fails_at_once_naming_the_limit(world) -> None:
    stack, harness = world
    old = (now() - dt.timedelta(days=40)).replace(minute=0, second=0, microsecond=0)
    runs = _backfill(stack, old, old + dt.timedelta(minutes=4), reprocess="none")

    assert runs and {r["state"] for r in runs} == {"failed"}
    for run in runs:
        history = _history(harness, run["dag_run_id"])
        assert history.status == "failed" and "30 days" in history.message, history.message
        plan = next(ti for ti in stack.task_instances(DAG_ID, run["dag_run_id"]) if ti["task_id"] == "plan")
        assert (plan["state"], plan["try_number"]) == ("failed", 1)  # no retries: retrying cannot help
        assert "getUpdated horizon of 30 days" in stack.client.task_log(DAG_ID, run["dag_run_id"], "plan")
