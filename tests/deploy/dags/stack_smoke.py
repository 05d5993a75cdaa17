"""Smoke DAG for the local stack: mapped tasks report which worker ran them.

Each mapped task sleeps a little so that, with one task slot per worker, the
broker has to hand the next task to another worker.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="stack_smoke",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["test"],
)
def stack_smoke() -> None:
    @task
    def slots(count: int = 4) -> list[int]:
        return list(range(count))

    @task
    def where_am_i(slot: int) -> str:
        time.sleep(3)
        return get_current_context()["ti"].hostname

    @task
    def collect(hostnames: list[str]) -> list[str]:
        return sorted(set(hostnames))

    collect(where_am_i.expand(slot=slots()))


stack_smoke()
