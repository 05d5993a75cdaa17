"""Backfill runs of the real DAG without a scheduler, for fast tests.

``dag.test()`` only makes manual runs, and a real scheduler (``test_scheduler.py``) costs a
stack start and minutes. Here Airflow's own backfill code (what ``airflow backfill create`` and
``POST /api/v2/backfills`` call) makes the backfill's DAG runs -- run type ``backfill``, data
intervals from the DAG's timetable -- and ``run_existing`` executes one of them in this process
the way ``dag.test()`` executes its run: the scheduler's dependency checks pick the ready task
instances, and Airflow's in-process task runner runs each through the Execution API.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import delete, select


def create_backfill(dag: Any, from_date: dt.datetime, to_date: dt.datetime, *, max_active_runs: int = 10) -> list[Any]:
    """The DAG runs of a new backfill over ``from_date .. to_date`` (queued, oldest first)."""
    from airflow import settings
    from airflow.models.backfill import _create_backfill
    from airflow.models.dagrun import DagRun

    backfill = _create_backfill(dag_id=dag.dag_id, from_date=from_date, to_date=to_date,
                                max_active_runs=max_active_runs, reverse=False, dag_run_conf={},
                                triggering_user_name="tests")
    with settings.Session() as session:
        return list(session.scalars(select(DagRun).where(DagRun.backfill_id == backfill.id)
                                    .order_by(DagRun.logical_date)))


def remove_backfills(dag_id: str) -> None:
    """Forget every backfill of the DAG (Airflow allows one unfinished backfill per DAG)."""
    from airflow import settings
    from airflow.models.backfill import Backfill, BackfillDagRun
    from airflow.models.dagrun import DagRun

    with settings.Session() as session:
        ids = list(session.scalars(select(Backfill.id).where(Backfill.dag_id == dag_id)))
        session.execute(delete(BackfillDagRun).where(BackfillDagRun.backfill_id.in_(ids)))
        session.execute(delete(DagRun).where(DagRun.backfill_id.in_(ids)))
        session.execute(delete(Backfill).where(Backfill.id.in_(ids)))
        session.commit()


def run_existing(dag: Any, run_id: str, timeout: float = 300) -> str:
    """Execute the DAG run ``run_id`` to its end in this process; returns its final state."""
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils.state import DagRunState, TaskInstanceState

    scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    deadline = time.monotonic() + timeout
    with settings.Session() as session:
        dr = session.scalars(select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == run_id)).one()
        dr.dag = scheduler_dag
        dr.state = DagRunState.RUNNING
        session.commit()
        while dr.state == DagRunState.RUNNING:
            assert time.monotonic() < deadline, f"{run_id} still running after {timeout:.0f}s"
            session.expire_all()
            for ti in dr.update_state(session=session)[0]:
                if ti.state != TaskInstanceState.UP_FOR_RESCHEDULE:
                    ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            ready = [ti for ti in dr.get_task_instances(session=session) if ti.state == TaskInstanceState.SCHEDULED]
            if not ready:
                time.sleep(0.5)
            for ti in ready:
                try:
                    _run_task(ti=ti, task=dag.task_dict[ti.task_id], run_triggerer=True)
                except Exception:  # a failed task is the run's state, as in dag.test()
                    continue
        return str(getattr(dr.state, "value", dr.state))


def extracted(dag_id: str, run_id: str) -> list[dict[str, int]]:
    """What each shard's extract read in run ``run_id`` (its XCom, as the UI shows it)."""
    from airflow import settings
    from airflow.models.xcom import XComModel

    with settings.Session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id,
                                                       XComModel.task_id == "extract",
                                                       XComModel.key == "return_value"))
        return [XComModel.deserialize_value(row)["extracted"] for row in rows]
