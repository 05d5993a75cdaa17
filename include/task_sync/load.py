"""Apply a ``diff.SyncPlan`` to both sides.

Sales Connect first, in one transaction: imports, edits, completions and
removals from Salesforce, each written only if the task still has the
change_seq the diff saw (a rep's edit made during the run is never
overwritten; it is picked up next run), plus echo refreshes, conflicts and
quarantined records. Then Salesforce, in collections of 200 with
``allOrNone=false``; after every call the links of the records that went
through are committed at once, so a crash half-way loses nothing and a
retry re-sends only what is not linked yet (creates are upserts on our
external id, so even that never duplicates).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sales_connect.models import CHANGED_BY_SYNC, Task, TaskLink
from task_sync import ledger
from task_sync.diff import SyncPlan
from task_sync.fields import EXTERNAL_ID_FIELD
from task_sync.runfiles import records
from task_sync.salesforce import RecordResult, SalesforceGateway

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
SC_TO_SF, SF_TO_SC = "sc_to_sf", "sf_to_sc"


def _zero_kinds() -> dict[str, int]:
    return dict.fromkeys(("create", "update", "complete", "delete"), 0)


@dataclass
class LoadCounts:
    """What actually got written (the plan says what was intended)."""

    written: dict[str, dict[str, int]] = field(default_factory=lambda: {d: _zero_kinds() for d in (SF_TO_SC, SC_TO_SF)})
    errors: int = 0
    deferred: int = 0  # Sales Connect rows a rep changed during the run: next run takes them
    conflicts: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"written": self.written, "errors": self.errors, "deferred": self.deferred, "conflicts": self.conflicts}


# -- Sales Connect ------------------------------------------------------------------------------


def apply_to_sales_connect(
    session: Session, plan: SyncPlan, *, run_id: int | None, now: dt.datetime, counts: LoadCounts
) -> None:
    """Write the Salesforce side's changes, the echo refreshes, conflicts and quarantined records."""
    direction = plan.sf_to_sc
    for row in records(direction.deletions):
        if _remove_task(session, row, now):
            counts.written[SF_TO_SC]["delete"] += 1
    for row in records(direction.creates):
        _import_task(session, row, now)
        counts.written[SF_TO_SC]["create"] += 1
    for kind, frame in (("update", direction.updates), ("complete", direction.completions)):
        for row in records(frame):
            if _edit_task(session, row, now):
                counts.written[SF_TO_SC][kind] += 1
            else:
                counts.deferred += 1
    for row in records(plan.link_refreshes):
        _refresh_link(session, row, now)
    for row in records(plan.conflicts):
        ledger.record_conflict(
            session, run_id=run_id, user_id=int(row["user_id"]), task_id=_int(row["task_id"]), sf_id=row["sf_id"],
            sc_version=row["sc_version"] or {}, sf_version=row["sf_version"] or {},
            sc_modified_at=_when(row["sc_modified_at"]), sf_modified_at=_when(row["sf_modified_at"]),
            winner=row["winner"], rule=row["rule"], now=now,
        )
        counts.conflicts += 1
    for row in records(plan.quarantined):
        ledger.record_error(
            session, run_id=run_id, user_id=_int(row.get("user_id")), direction=row["direction"],
            operation=row["operation"], error_code=row["code"], message=row["message"], now=now,
            task_id=_int(row.get("task_id")), sf_id=row.get("sf_id"), payload=row.get("payload") or {},
        )
        counts.errors += 1
    session.flush()


def _task(session: Session, task_id: Any) -> Task | None:
    return session.get(Task, int(task_id)) if task_id is not None else None


def _remove_task(session: Session, row: dict[str, Any], now: dt.datetime) -> bool:
    """Tombstone a task Salesforce deleted (or moved to another owner) and drop its link."""
    task = _task(session, row["task_id"])
    link = session.get(TaskLink, int(row["task_id"])) if row["task_id"] is not None else None
    if link is not None:
        session.delete(link)
        session.flush()  # the Salesforce id may be linked afresh (new owner) in this transaction
    if task is None or task.deleted_at is not None:
        return False
    task.deleted_at = now
    task.changed_by = CHANGED_BY_SYNC
    return True


def _import_task(session: Session, row: dict[str, Any], now: dt.datetime) -> None:
    """A Salesforce task new to Sales Connect, or one we pushed whose link write was lost (adopt it)."""
    adopted = _task(session, row["sales_connect_id"]) if _is_int(row.get("sales_connect_id")) else None
    task = adopted if adopted is not None and adopted.user_id == int(row["user_id"]) else None
    if task is None:
        task = Task(user_id=int(row["user_id"]), created_at=now, changed_by=CHANGED_BY_SYNC)
        session.add(task)
    _assign(task, row["sc_fields"])
    task.changed_by = CHANGED_BY_SYNC
    session.flush()
    link = session.get(TaskLink, task.id) or TaskLink(task_id=task.id, user_id=task.user_id, origin="salesforce")
    session.add(link)
    _store_agreement(link, row, sc_seq=task.change_seq, now=now)


def _edit_task(session: Session, row: dict[str, Any], now: dt.datetime) -> bool:
    task = _task(session, row["task_id"])
    if task is None or task.deleted_at is not None:
        return False
    if row["expected_sc_seq"] is not None and task.change_seq != int(row["expected_sc_seq"]):
        log.info("task %s changed in Sales Connect during the run; its Salesforce edit waits for the next run",
                 task.id)
        return False
    _assign(task, row["sc_fields"])
    task.changed_by = CHANGED_BY_SYNC
    session.flush()
    link = session.get(TaskLink, task.id)
    if link is not None:
        _store_agreement(link, row, sc_seq=task.change_seq, now=now)
    return True


def _refresh_link(session: Session, row: dict[str, Any], now: dt.datetime) -> None:
    """An echo: remember the newer stamp/seq so it is not looked at again."""
    link = session.get(TaskLink, int(row["task_id"])) if row["task_id"] is not None else None
    if link is None:
        return
    for column in ("sf_values", "sf_hash", "sc_values", "sc_hash"):
        if row.get(column) is not None:
            setattr(link, column, row[column])
    if row.get("sf_modstamp") is not None:
        link.sf_modstamp = _when(row["sf_modstamp"])
    if row.get("sc_seq") is not None:
        link.sc_seq = max(link.sc_seq or 0, int(row["sc_seq"]))
    link.last_synced_at = now


def _store_agreement(link: TaskLink, row: dict[str, Any], *, sc_seq: int | None, now: dt.datetime) -> None:
    """Both sides now agree on this task: remember each side's values, hash and version."""
    link.sf_id = row["sf_id"] or link.sf_id
    link.sf_values = row.get("sf_values") or link.sf_values or {}
    link.sf_hash = row.get("sf_hash") or link.sf_hash
    link.sc_values = row.get("sc_values") or link.sc_values or {}
    link.sc_hash = row.get("sc_hash") or link.sc_hash
    if row.get("sf_modstamp") is not None:
        link.sf_modstamp = _when(row["sf_modstamp"])
    if sc_seq is not None:
        link.sc_seq = sc_seq
    link.last_synced_at = now
    link.sync_state = "synced"


_DATE_COLUMNS = frozenset({"due_date"})
_DATETIME_COLUMNS = frozenset({"reminder_at", "completed_at"})


def _assign(task: Task, values: dict[str, Any]) -> None:
    """Set Sales Connect columns from a payload that crossed a file as JSON (dates came back as text)."""
    for column, value in values.items():
        if column in _DATE_COLUMNS and isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        elif column in _DATETIME_COLUMNS and isinstance(value, str):
            value = _when(value)
        setattr(task, column, value)


# -- Salesforce -----------------------------------------------------------------------------------


def apply_to_salesforce(
    gateway: SalesforceGateway,
    session_factory: SessionFactory,
    plan: SyncPlan,
    *,
    run_id: int | None,
    now: dt.datetime,
    counts: LoadCounts,
) -> None:
    """Push Sales Connect's changes. Raises ``ApiLimitExceeded`` untouched (the caller stops the run)."""
    direction = plan.sc_to_sf
    for batch in _batches(direction.creates):
        results = gateway.upsert([r["sf_fields"] for r in batch], EXTERNAL_ID_FIELD)
        with session_factory() as session:
            for row, result in zip(batch, results, strict=True):
                if _settle(session, row, result, "create", run_id, now, counts):
                    link = session.get(TaskLink, int(row["task_id"])) or TaskLink(
                        task_id=int(row["task_id"]), user_id=int(row["user_id"]), origin="sales_connect"
                    )
                    session.add(link)
                    _store_agreement(link, {**row, "sf_id": result.sf_id}, sc_seq=_int(row["sc_seq"]), now=now)
                    counts.written[SC_TO_SF]["create"] += 1
    for kind, frame in (("update", direction.updates), ("complete", direction.completions)):
        for batch in _batches(frame):
            results = gateway.update([{"Id": r["sf_id"], **r["sf_fields"]} for r in batch])
            with session_factory() as session:
                for row, result in zip(batch, results, strict=True):
                    if _settle(session, row, result, "update", run_id, now, counts):
                        link = session.get(TaskLink, int(row["task_id"]))
                        if link is not None:
                            _store_agreement(link, row, sc_seq=_int(row["sc_seq"]), now=now)
                        counts.written[SC_TO_SF][kind] += 1
    for batch in _batches(direction.deletions):
        results = gateway.delete([r["sf_id"] for r in batch])
        with session_factory() as session:
            for row, result in zip(batch, results, strict=True):
                if _settle(session, row, result, "delete", run_id, now, counts):
                    link = session.get(TaskLink, int(row["task_id"]))
                    if link is not None:
                        session.delete(link)
                    counts.written[SC_TO_SF]["delete"] += 1


def _settle(
    session: Session,
    row: dict[str, Any],
    result: RecordResult,
    operation: str,
    run_id: int | None,
    now: dt.datetime,
    counts: LoadCounts,
) -> bool:
    """Record one record's outcome: close its open error, or open/extend one. True when it went through."""
    task_id = _int(row.get("task_id"))
    if result.ok:
        if task_id is not None:
            ledger.resolve_errors(session, direction=SC_TO_SF, now=now, task_ids=[task_id])
        return True
    ledger.record_error(
        session, run_id=run_id, user_id=_int(row.get("user_id")), direction=SC_TO_SF, operation=operation,
        error_code=result.error_code or "UNKNOWN_ERROR", message=result.message or "", now=now,
        task_id=task_id, sf_id=row.get("sf_id"), payload={"fields": list(result.fields), "sent": row.get("sf_fields")},
    )
    link = session.get(TaskLink, task_id) if task_id is not None else None
    if link is not None:
        link.sync_state = "error"
    counts.errors += 1
    return False


def _batches(frame: pd.DataFrame, size: int = 200) -> Iterator[list[dict[str, Any]]]:
    rows = records(frame)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def resolved_imports(session: Session, plan: SyncPlan, now: dt.datetime) -> None:
    """Close open Salesforce-side errors of records that went through this run."""
    sf_ids = [r["sf_id"] for frame in (plan.sf_to_sc.creates, plan.sf_to_sc.updates, plan.sf_to_sc.completions)
              for r in records(frame) if r.get("sf_id")]
    ledger.resolve_errors(session, direction=SF_TO_SC, now=now, sf_ids=sf_ids)


def open_retry_ids(session: Session, now: dt.datetime) -> tuple[list[int], list[str]]:
    """Records whose open error is due for another try: task ids (push) and Salesforce ids (import)."""
    from sales_connect.models import SyncError

    rows = session.execute(
        select(SyncError.direction, SyncError.task_id, SyncError.sf_id).where(
            SyncError.resolved_at.is_(None), SyncError.next_retry_at <= now
        )
    ).all()
    task_ids = [r.task_id for r in rows if r.direction == SC_TO_SF and r.task_id is not None]
    sf_ids = [r.sf_id for r in rows if r.direction == SF_TO_SC and r.sf_id is not None]
    return task_ids, sf_ids


def _int(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else int(value)


def _is_int(value: Any) -> bool:
    try:
        int(str(value))
    except (TypeError, ValueError):
        return False
    return True


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value).replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # Salesforce's +0000
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
