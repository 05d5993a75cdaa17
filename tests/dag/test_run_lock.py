"""SPEC §8, issue 10 #13: sync runs never overlap, backfills included.

Airflow 3 counts a backfill's runs against the backfill's own ``max_active_runs``, not the
DAG's, so a backfill run may be running while the schedule (or the settings page) starts
another run. Here a real backfill run, made by Airflow's own backfill code, holds the sync
(driven step by step, as a worker would); the DAG run started meanwhile must wait for it to end
-- its plan is rescheduled, spending no retry -- and must not wait for a backfill run that
Airflow no longer runs (the stale-lock rule).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from dag_harness import SyncHarness, now
from sqlalchemy import select

from sales_connect.models import SyncRun, SyncRunLock
from task_sync import pipeline
from task_sync.pipeline import RunContext

HOLD_SECONDS = 4.0


@pytest.fixture
def airflow_backfill_run(backfill: Callable[..., list[Any]]) -> Callable[[], Any]:
    """The first run of a real backfill ten minutes back (queued: no scheduler picks it up here)."""
    def first_run() -> Any:
        end = now().replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
        return backfill(end - dt.timedelta(minutes=5), end)[0]

    return first_run


def _held(harness: SyncHarness, backfill_run: Any) -> tuple[RunContext, dict[str, Any]]:
    """The backfill run's plan, run by its worker: it holds the sync from here to its report."""
    held = harness.pipeline_run(backfill_run.run_id, "backfill", interval_start=backfill_run.data_interval_start,
                                interval_end=backfill_run.data_interval_end)
    return held, pipeline.plan_run(held)


def _finish(held: RunContext, run_plan: dict[str, Any]) -> None:
    loaded = [pipeline.load_shard(held, pipeline.diff_shard(held, pipeline.extract_shard(held, shard)))
              for shard in run_plan["shards"]]
    pipeline.report(held, run_plan, loaded, pipeline.publish_watermarks(held, run_plan, loaded))


def _history(harness: SyncHarness, dag_run_id: str) -> SyncRun:
    with harness.store.session() as s:
        return s.scalars(select(SyncRun).where(SyncRun.dag_run_id == dag_run_id)).one()


def _plan_reschedules(dag_run_id: str) -> int:
    from airflow import settings
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskreschedule import TaskReschedule

    with settings.Session() as session:
        return len(session.scalars(
            select(TaskReschedule.id).join(TaskInstance, TaskInstance.id == TaskReschedule.ti_id)
            .where(TaskInstance.run_id == dag_run_id, TaskInstance.task_id == "plan")).all())


def test_a_run_started_while_a_backfill_run_works_waits_for_it_to_end(
    harness: SyncHarness, airflow_backfill_run: Callable[[], Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALES_CONNECT_SYNC_LOCK_RETRY_SECONDS", "1")
    rep = harness.rep(0)
    harness.run()
    harness.sc_create(rep, "call the CFO")
    backfill = airflow_backfill_run()
    held, run_plan = _held(harness, backfill)
    errors: list[BaseException] = []

    def worker() -> None:
        time.sleep(HOLD_SECONDS)
        try:
            _finish(held, run_plan)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        waiting = harness.run()
    finally:
        thread.join()

    assert errors == []
    replayed = _history(harness, backfill.run_id)
    assert waiting.started_at >= replayed.finished_at, (waiting.started_at, replayed.finished_at)
    assert _plan_reschedules(waiting.dag_run_id) >= 1
    assert [t["Subject"] for t in harness.sf_tasks(rep.owner_id)] == ["call the CFO"]
    with harness.store.session() as s:
        assert s.scalars(select(SyncRunLock.dag_run_id)).all() == [None]


def test_a_backfill_run_airflow_no_longer_runs_does_not_hold_the_sync(
    harness: SyncHarness, airflow_backfill_run: Callable[[], Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow import settings
    from airflow.models.dagrun import DagRun

    monkeypatch.setenv("SALES_CONNECT_SYNC_LOCK_RETRY_SECONDS", "1")
    rep = harness.rep(0)
    harness.sf_create(rep.owner_id, "renew the contract")
    backfill = airflow_backfill_run()
    _held(harness, backfill)  # ...and its run is marked failed in the UI before its report ran
    with settings.Session() as session:
        session.get(DagRun, backfill.id).state = "failed"
        session.commit()

    history = harness.run()

    assert _plan_reschedules(history.dag_run_id) == 0
    assert [t.subject for t in harness.sc_tasks(rep)] == ["renew the contract"]
    with harness.store.session() as s:
        assert s.scalars(select(SyncRunLock.dag_run_id)).all() == [None]
