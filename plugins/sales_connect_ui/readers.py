"""Read-only store queries the pages need that ``sales_connect.repository`` does not offer.

Only reads, each scoped to one user like the repository's own functions.
A sync run's ``user_ids`` is ``{"ids": [...]}`` (``task_sync.ledger``): a user
sees the runs that covered them, never other users' runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from sales_connect import repository
from sales_connect.models import SyncError, SyncRun, TaskLink

# How many recent runs to look through for a user's own; runs of one user are
# interleaved with everybody else's scheduled runs.
RUN_SCAN = 500


def covers(run: SyncRun, user_id: int) -> bool:
    """Whether ``run`` synced (or previewed) this user."""
    return user_id in (run.user_ids or {}).get("ids", [])


def runs_for_user(session: Session, user_id: int, limit: int = 20) -> list[SyncRun]:
    """The user's most recent sync runs, newest first."""
    return [run for run in repository.recent_runs(session, limit=RUN_SCAN) if covers(run, user_id)][:limit]


def run_for_user(session: Session, user_id: int, dag_run_id: str) -> SyncRun | None:
    """The history row an Airflow run wrote, if that run covered this user (None until the run has started it)."""
    rows = session.scalars(select(SyncRun).where(SyncRun.dag_run_id == dag_run_id).order_by(SyncRun.id.desc()))
    return next((run for run in rows if covers(run, user_id)), None)


def links(session: Session, user_id: int, task_ids: Iterable[int]) -> dict[int, TaskLink]:
    """The Salesforce links of these tasks of the user, by task id."""
    ids = list(task_ids)
    if not ids:
        return {}
    rows = session.scalars(select(TaskLink).where(TaskLink.user_id == user_id, TaskLink.task_id.in_(ids)))
    return {link.task_id: link for link in rows}


def open_errors_by_task(session: Session, user_id: int, task_ids: Iterable[int]) -> dict[int, SyncError]:
    """Each task's most recent unresolved sync error, by task id."""
    ids = list(task_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(SyncError)
        .where(SyncError.user_id == user_id, SyncError.task_id.in_(ids), SyncError.resolved_at.is_(None))
        .order_by(SyncError.last_seen_at)
    )
    return {error.task_id: error for error in rows if error.task_id is not None}
