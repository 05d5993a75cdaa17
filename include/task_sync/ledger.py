"""The sync's own bookkeeping in the Sales Connect database.

Runs (the sync history the Command Center shows), per-record errors with
their retry schedule, conflicts with both versions, and the durable copy of
each shard's committed watermarks. Kept apart from the task tables so a
history write can never be confused with a user's change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sales_connect.models import SyncConflict, SyncError, SyncRun, SyncWatermark
from task_sync.retry_policy import next_retry_at

# A note the plan step leaves on the history row (``watermark_clamp``) that the report keeps:
# ``{"message": str, ...}``; its message joins the run's final message.
WATERMARKS_CLAMPED = "watermarks_clamped"


@dataclass(frozen=True)
class ShardWatermark:
    """One shard's committed position on both sides."""

    shard_key: str
    sf_modstamp: dt.datetime | None
    sc_seq: int
    sf_deleted_until: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "sf_modstamp": _iso(self.sf_modstamp),
            "sc_seq": self.sc_seq,
            "sf_deleted_until": _iso(self.sf_deleted_until),
        }

    @classmethod
    def from_json(cls, shard_key: str, value: Mapping[str, Any]) -> ShardWatermark:
        return cls(
            shard_key=shard_key,
            sf_modstamp=_parse(value.get("sf_modstamp")),
            sc_seq=int(value.get("sc_seq") or 0),
            sf_deleted_until=_parse(value.get("sf_deleted_until")),
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC) if value else None


def load_watermarks(session: Session) -> dict[str, ShardWatermark]:
    rows = session.scalars(select(SyncWatermark)).all()
    return {
        r.shard_key: ShardWatermark(r.shard_key, r.sf_modstamp, r.sc_seq, r.sf_deleted_until) for r in rows
    }


def save_watermark(session: Session, mark: ShardWatermark, dag_run_id: str, now: dt.datetime) -> None:
    """Record a shard's committed watermark; never moves it backwards."""
    row = session.get(SyncWatermark, mark.shard_key)
    if row is None:
        row = SyncWatermark(shard_key=mark.shard_key, sc_seq=0)
        session.add(row)
    row.sf_modstamp = _later(row.sf_modstamp, mark.sf_modstamp)
    row.sc_seq = max(row.sc_seq or 0, mark.sc_seq)
    row.sf_deleted_until = _later(row.sf_deleted_until, mark.sf_deleted_until)
    row.dag_run_id = dag_run_id
    row.updated_at = now


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def start_run(
    session: Session, *, dag_run_id: str, run_type: str | None, dry_run: bool, user_ids: Iterable[int], now: dt.datetime
) -> int:
    """Open a history row for this DAG run (a retried plan task reuses it)."""
    existing = open_run(session, dag_run_id)
    if existing is not None:
        return existing.id
    run = SyncRun(
        dag_run_id=dag_run_id,
        run_type=run_type,
        started_at=now,
        status="running",
        dry_run=dry_run,
        user_ids={"ids": sorted(user_ids)},
        counts={},
    )
    session.add(run)
    session.flush()
    return run.id


def open_run(session: Session, dag_run_id: str) -> SyncRun | None:
    """The history row of this DAG run that is still running, if any."""
    return session.scalars(
        select(SyncRun).where(SyncRun.dag_run_id == dag_run_id, SyncRun.status == "running").order_by(SyncRun.id)
    ).first()


def note_failure(session: Session, run_id: int, message: str) -> None:
    """Keep why a step failed on the (still running) history row; the report closes it."""
    run = session.get(SyncRun, run_id)
    if run is not None:
        run.message = message


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    counts: Mapping[str, Any],
    api_calls: int,
    now: dt.datetime,
    message: str | None = None,
) -> None:
    run = session.get(SyncRun, run_id)
    if run is None:
        raise LookupError(f"sync run {run_id} does not exist")
    note = (run.counts or {}).get(WATERMARKS_CLAMPED)
    run.status = status
    run.counts = {**dict(counts), WATERMARKS_CLAMPED: note} if note else dict(counts)
    run.api_calls = api_calls
    run.finished_at = now
    run.message = "; ".join(filter(None, [message, note and note.get("message")])) or None


def record_error(
    session: Session,
    *,
    run_id: int | None,
    user_id: int | None,
    direction: str,
    operation: str,
    error_code: str,
    message: str,
    now: dt.datetime,
    task_id: int | None = None,
    sf_id: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> SyncError:
    """Record a refused record, or count another attempt of an open one, and schedule its retry
    (``retry_policy``: none after the last automatic attempt of a permanent refusal)."""
    query = select(SyncError).where(
        SyncError.resolved_at.is_(None), SyncError.direction == direction, SyncError.operation == operation
    )
    query = query.where(SyncError.task_id == task_id) if task_id is not None else query.where(SyncError.sf_id == sf_id)
    error = session.scalars(query).first()
    if error is None:
        error = SyncError(
            run_id=run_id, user_id=user_id, task_id=task_id, sf_id=sf_id, direction=direction,
            operation=operation, attempts=0, first_seen_at=now,
        )
        session.add(error)
    error.attempts = (error.attempts or 0) + 1
    error.run_id = run_id
    error.error_code = error_code
    error.message = message
    error.payload = dict(payload or {})
    error.last_seen_at = now
    error.next_retry_at = next_retry_at(error_code, error.attempts, now)
    return error


def resolve_errors(
    session: Session, *, direction: str, now: dt.datetime, task_ids: Iterable[int] = (), sf_ids: Iterable[str] = ()
) -> int:
    """Close the open errors of records that have now gone through."""
    closed = 0
    for column, values in ((SyncError.task_id, list(task_ids)), (SyncError.sf_id, list(sf_ids))):
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            rows = session.scalars(
                select(SyncError).where(
                    SyncError.resolved_at.is_(None), SyncError.direction == direction, column.in_(chunk)
                )
            ).all()
            for row in rows:
                row.resolved_at = now
                closed += 1
    return closed


def blocked_for_retry(session: Session, *, direction: str, now: dt.datetime) -> tuple[set[int], set[str]]:
    """Task ids and Salesforce ids whose open error is still backing off."""
    rows = session.execute(
        select(SyncError.task_id, SyncError.sf_id).where(
            SyncError.resolved_at.is_(None), SyncError.direction == direction, SyncError.next_retry_at > now
        )
    ).all()
    return {r.task_id for r in rows if r.task_id is not None}, {r.sf_id for r in rows if r.sf_id is not None}


def record_conflict(
    session: Session,
    *,
    run_id: int | None,
    user_id: int,
    task_id: int | None,
    sf_id: str | None,
    sc_version: Mapping[str, Any],
    sf_version: Mapping[str, Any],
    sc_modified_at: dt.datetime | None,
    sf_modified_at: dt.datetime | None,
    winner: str,
    rule: str,
    now: dt.datetime,
) -> None:
    session.add(
        SyncConflict(
            run_id=run_id, user_id=user_id, task_id=task_id, sf_id=sf_id, sc_version=dict(sc_version),
            sf_version=dict(sf_version), sc_modified_at=sc_modified_at, sf_modified_at=sf_modified_at,
            winner=winner, rule=rule, detected_at=now,
        )
    )
