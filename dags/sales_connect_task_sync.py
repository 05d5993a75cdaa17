"""The Sales Connect <-> Salesforce task sync DAG: wiring only; the logic is ``task_sync.pipeline``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronDataIntervalTimetable,
    Param,
    TriggerRule,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowRescheduleException

from task_sync import pipeline
from task_sync.external_ids import NamespaceError
from task_sync.id_limit import WindowUnsplittable
from task_sync.preflight import PreflightFailed
from task_sync.run_lock import RunLockBusy
from task_sync.salesforce import ApiLimitExceeded
from task_sync.settings import DAG_ID, SYNC_REQUESTS_ASSET_URI
from task_sync.windows import WindowTooOldError

SYNC_REQUESTS = Asset(name="sales_connect_sync_requests", uri=SYNC_REQUESTS_ASSET_URI)
SCHEDULE = os.environ.get("SALES_CONNECT_SYNC_CRON", "*/5 * * * *")

RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay": dt.timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=10),
}


def _run() -> pipeline.RunContext:
    return pipeline.RunContext.from_airflow(get_current_context())


@contextmanager
def _no_retry_for_permanent_faults() -> Iterator[None]:
    """Fail the task at once, without Airflow retries, when retrying minutes later cannot help.

    A spent API allowance (a rolling 24-hour window), a backfill window older than Salesforce
    can answer, a replication window too busy to list even when split, a Salesforce org not set up
    for the sync or a changed external-id namespace (an admin must act), and a run whose shards
    did not finish (the next run retries them, not this one) would otherwise hold the only run
    slot (``max_active_runs=1``) through every retry.
    """
    try:
        yield
    except (ApiLimitExceeded, WindowTooOldError, WindowUnsplittable, pipeline.RunIncomplete, PreflightFailed,
            NamespaceError) as exc:
        raise AirflowFailException(str(exc)) from exc


@contextmanager
def _waiting_for_the_run_lock() -> Iterator[None]:
    """Another run holds the run lock (a backfill beside the schedule): reschedule the plan task.

    Rescheduling frees the worker slot while waiting and spends no retry; the run's plan tries
    again at ``retry_at`` until the holder's report gives the lock back (``task_sync.run_lock``).
    """
    try:
        yield
    except RunLockBusy as busy:
        raise AirflowRescheduleException(reschedule_date=busy.retry_at) from busy


@dag(
    dag_id=DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"), assets=[SYNC_REQUESTS]
    ),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    # A fresh stack syncs without a trip to the UI: the DAG starts unpaused wherever it is first
    # parsed, whatever [core] dags_are_paused_at_creation says (README "Operating it": pausing).
    is_paused_upon_creation=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=2),
    default_args=RETRIES,
    doc_md=pipeline.__doc__,
    tags=["sales-connect", "salesforce"],
    params={
        "dry_run": Param(False, type="boolean", description="Compute and log the full plan; write nothing."),
        "user_ids": Param([], type="array", items={"type": "integer"}, description="Only these users."),
        "full_reconcile": Param(False, type="boolean", description="Check every linked id still exists."),
        "preview_enable": Param(False, type="boolean", description="Dry run as if sync were switched on now."),
    },
)
def sales_connect_task_sync() -> None:
    @task
    def plan() -> dict[str, Any]:
        with _no_retry_for_permanent_faults(), _waiting_for_the_run_lock():
            return pipeline.plan_run(_run())

    @task
    def shards(run_plan: dict[str, Any]) -> list[dict[str, Any]]:
        return run_plan["shards"]

    @task(max_active_tis_per_dagrun=4)
    def extract(shard: dict[str, Any]) -> dict[str, Any]:
        with _no_retry_for_permanent_faults():
            return pipeline.extract_shard(_run(), shard)

    @task
    def diff(extracted: dict[str, Any]) -> dict[str, Any]:
        with _no_retry_for_permanent_faults():
            return pipeline.diff_shard(_run(), extracted)

    @task(max_active_tis_per_dagrun=4)
    def load(diffed: dict[str, Any]) -> dict[str, Any]:
        with _no_retry_for_permanent_faults():
            return pipeline.load_shard(_run(), diffed)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def publish_watermarks(run_plan: dict[str, Any], loaded: list[dict[str, Any]]) -> dict[str, Any]:
        with _no_retry_for_permanent_faults():
            return pipeline.publish_watermarks(_run(), run_plan, list(loaded or []))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def report(run_plan: dict[str, Any], loaded: list[dict[str, Any]], published: dict[str, Any] | None) -> None:
        with _no_retry_for_permanent_faults():
            pipeline.report(_run(), run_plan, list(loaded or []), published)

    run_plan = plan()
    loaded = load.expand(diffed=diff.expand(extracted=extract.expand(shard=shards(run_plan))))
    published = publish_watermarks(run_plan, loaded)
    report(run_plan, loaded, published)


sales_connect_task_sync()
