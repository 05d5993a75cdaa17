"""One sync run at a time, backfills included (SPEC §8; issue 10 #13).

The DAG has ``max_active_runs=1``, but Airflow 3 counts a backfill's runs against the
backfill's own ``max_active_runs`` (``airflow.md`` §6, §11): the README's backfill command, or
any backfill made in the UI, would otherwise run beside the schedule and beside its own other
runs, each reading and writing the same reps. So every run takes the row ``sync_run_lock`` in
the Sales Connect database at plan and gives it back when its report ends.

A run that finds the slot taken waits: the DAG reschedules its plan task (``RunLockBusy`` ->
Airflow's reschedule), which frees the worker slot, until the holder is done.

Stale-lock rule: the slot is free when its holder's DAG run is no longer queued or running in
Airflow (its report never ran: the run was marked failed, timed out after ``dagrun_timeout``, or
the metadata database was replaced). Age alone never frees it: a live run of any length keeps
it. Outside Airflow (the benchmark, tests that drive the steps themselves) nobody can be asked,
and the caller runs one run at a time, so a holder that is not the caller counts as gone.

Taking the slot is a compare-and-set ``UPDATE ... WHERE dag_run_id = <holder seen>``: of two
runs racing for it, the database lets exactly one through, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sales_connect.models import SyncRunLock

log = logging.getLogger(__name__)

LOCK_NAME = "sales_connect_task_sync"


@dataclass(frozen=True)
class Holder:
    dag_run_id: str
    run_type: str | None
    acquired_at: dt.datetime | None


class RunLockBusy(RuntimeError):
    """Another run holds the slot; try again at ``retry_at``."""

    def __init__(self, holder: Holder, retry_at: dt.datetime) -> None:
        since = holder.acquired_at.isoformat() if holder.acquired_at else "an unknown time"
        super().__init__(f"sync run {holder.dag_run_id} ({holder.run_type or 'unknown type'}) holds the run lock "
                         f"since {since}; this run waits until it ends (next try at {retry_at.isoformat()})")
        self.holder = holder
        self.retry_at = retry_at


def _holder(session: Session) -> Holder | None:
    row = session.scalars(select(SyncRunLock).where(SyncRunLock.name == LOCK_NAME)).one_or_none()
    if row is None:
        raise LookupError("the sync_run_lock row is missing: run `python -m sales_connect migrate`")
    return Holder(row.dag_run_id, row.run_type, row.acquired_at) if row.dag_run_id else None


def acquire(
    session: Session,
    *,
    dag_run_id: str,
    run_type: str | None,
    now: dt.datetime,
    retry_after: dt.timedelta,
    holder_is_running: Callable[[str], bool] | None,
) -> None:
    """Take the slot for ``dag_run_id`` (again, if it already holds it: a retried plan), or raise
    ``RunLockBusy``. ``holder_is_running`` asks Airflow whether another holder's run is alive."""
    holder = _holder(session)
    if holder is not None and holder.dag_run_id != dag_run_id:
        if holder_is_running is not None and holder_is_running(holder.dag_run_id):
            raise RunLockBusy(holder, now + retry_after)
        log.warning("run lock: %s (%s, since %s) is no longer running; taking its slot over",
                    holder.dag_run_id, holder.run_type, holder.acquired_at)
    seen = SyncRunLock.dag_run_id.is_(None) if holder is None else SyncRunLock.dag_run_id == holder.dag_run_id
    taken = session.execute(
        update(SyncRunLock).where(SyncRunLock.name == LOCK_NAME, seen)
        .values(dag_run_id=dag_run_id, run_type=run_type, acquired_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:  # another run took it between the read and the update
        winner = _holder(session)
        raise RunLockBusy(winner or Holder("another run", None, None), now + retry_after)


def release(session: Session, dag_run_id: str) -> None:
    """Give the slot back if ``dag_run_id`` holds it (a no-op for a run that never took it)."""
    session.execute(
        update(SyncRunLock).where(SyncRunLock.name == LOCK_NAME, SyncRunLock.dag_run_id == dag_run_id)
        .values(dag_run_id=None, run_type=None, acquired_at=None)
        .execution_options(synchronize_session=False)
    )


def airflow_run_probe(ti: Any, dag_id: str) -> Callable[[str], bool]:
    """Whether a DAG run is still queued or running, asked through the Execution API with the task
    SDK's ``RuntimeTaskInstance.get_dr_count`` (a task may not use Airflow's ORM)."""

    def is_running(dag_run_id: str) -> bool:
        return int(ti.get_dr_count(dag_id=dag_id, run_ids=[dag_run_id], states=["queued", "running"])) > 0

    return is_running
