"""SPEC §8: a backfill run replays its data interval (plus the overlap) and nothing else; a window
older than Salesforce can answer fails fast, whoever has sync on."""

from __future__ import annotations

import datetime as dt

import airflow_runs
import pytest
from dag_harness import SyncHarness, now
from sqlalchemy import select

from sales_connect.models import SyncRun
from task_sync import pipeline, step_calls
from task_sync.windows import WindowTooOldError


def test_a_backfill_older_than_30_days_is_refused_even_when_nobody_has_sync_on(harness: SyncHarness) -> None:
    harness.rep(0, enabled=False)
    start = now() - dt.timedelta(days=40)
    run = harness.pipeline_run("backfill__old", run_type="backfill", interval_start=start,
                               interval_end=start + dt.timedelta(minutes=5))

    with pytest.raises(WindowTooOldError, match="30 days"):
        pipeline.plan_run(run)

    with harness.store.session() as s:
        history = s.scalars(select(SyncRun).where(SyncRun.dag_run_id == "backfill__old")).one()
    assert "30 days" in (history.message or "")


def test_a_recent_backfill_with_nobody_enabled_has_nothing_to_do(harness: SyncHarness) -> None:
    harness.rep(0, enabled=False)
    start = now() - dt.timedelta(days=2)
    run = harness.pipeline_run("backfill__recent", run_type="backfill", interval_start=start,
                               interval_end=start + dt.timedelta(minutes=5))

    planned = pipeline.plan_run(run)

    assert planned["shards"] == []
    with harness.store.session() as session:
        assert step_calls.total(session, planned["run_id"]) == 1  # the check whether Salesforce can answer


def test_a_backfill_run_reads_only_its_interval_and_the_overlap_on_both_sides(
    harness: SyncHarness, sync_dag, backfill
) -> None:
    rep = harness.rep(0, enable_at=now() - dt.timedelta(hours=2))
    harness.sc_create(rep, "changed in Sales Connect after the window")
    harness.run()
    (run, *_) = backfill(now().replace(second=0, microsecond=0) - dt.timedelta(minutes=20),
                         now().replace(second=0, microsecond=0) - dt.timedelta(minutes=15))
    start, end = run.data_interval_start, run.data_interval_end
    # Changes Salesforce committed late: stamped before the incremental runs' window, never read.
    harness.sf_seed(rep.owner_id, "before the window and its overlap", modified=start - dt.timedelta(minutes=20))
    harness.sf_seed(rep.owner_id, "in the overlap", modified=start - dt.timedelta(minutes=2))
    harness.sf_seed(rep.owner_id, "in the window", modified=start + dt.timedelta(minutes=1))
    harness.sf_seed(rep.owner_id, "after the window", modified=end + dt.timedelta(minutes=3))

    assert airflow_runs.run_existing(sync_dag, run.run_id) == "success"

    assert airflow_runs.extracted(sync_dag.dag_id, run.run_id) == [{"salesforce": 2, "sales_connect": 0}]
    assert sorted(t.subject for t in harness.sc_tasks(rep)) == [
        "changed in Sales Connect after the window", "in the overlap", "in the window"]
    with harness.store.session() as s:
        history = s.scalars(select(SyncRun).where(SyncRun.dag_run_id == run.run_id)).one()
    assert (history.run_type, history.status) == ("backfill", "success")
