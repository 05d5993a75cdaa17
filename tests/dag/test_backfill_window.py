"""SPEC §8: a backfill window older than Salesforce can answer fails fast, whoever has sync on."""

from __future__ import annotations

import datetime as dt

import pytest
from dag_harness import SyncHarness, now
from sqlalchemy import select

from sales_connect.models import SyncRun
from task_sync import pipeline
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

    assert planned["shards"] == [] and planned["api_calls"] == 1
