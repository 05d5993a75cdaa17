"""Read both sides into the frames the diff takes (``diff.SyncInput``).

Salesforce: SOQL over ``queryAll`` on SystemModstamp for many owners at once
(deleted rows come back with ``IsDeleted = true``), plus the records whose
earlier write failed and are due for a retry. Sales Connect: its change
capture, bounded by the counter value read first, so every row up to that
bound is committed and the next run can start exactly there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sales_connect.changes import changes_since, max_change_seq
from sales_connect.models import Task, TaskLink, User
from task_sync import soql
from task_sync.diff import LINK_COLUMNS, SC_COLUMNS, SF_DELETED_COLUMNS, USER_COLUMNS
from task_sync.fields import SF_SELECT_FIELDS
from task_sync.salesforce import SalesforceGateway

_CHUNK = 900  # ids per IN (...) on the Sales Connect side: under every backend's parameter limit


@dataclass(frozen=True)
class SalesConnectRead:
    changes: pd.DataFrame
    # The change_seq every row up to which is committed and was read: the shard's next watermark.
    high_seq: int


def users_frame(session: Session, overrides: dict[int, dt.datetime] | None = None) -> pd.DataFrame:
    """Every user with a Salesforce owner id (the diff needs all of them to keep lists apart).

    ``overrides`` maps user ids to an ``enabled_at`` to pretend (the first-enable preview).
    """
    rows = session.execute(
        select(User.id, User.sf_owner_id, User.sync_enabled, User.enabled_at).where(User.sf_owner_id.is_not(None))
    ).all()
    overrides = overrides or {}
    data = [
        {
            "user_id": r.id,
            "sf_owner_id": r.sf_owner_id,
            "sync_enabled": bool(r.sync_enabled) or r.id in overrides,
            "enabled_at": overrides.get(r.id, r.enabled_at),
        }
        for r in rows
    ]
    return pd.DataFrame(data, columns=list(USER_COLUMNS))


def read_sales_connect(
    session: Session,
    *,
    user_ids: Sequence[int],
    after_seq: int,
    fresh_user_ids: Iterable[int] = (),
    retry_task_ids: Iterable[int] = (),
) -> SalesConnectRead:
    """Changes of ``user_ids`` after ``after_seq``; all tasks of ``fresh_user_ids`` (first sync
    or just re-enabled: their changes while off are not behind the shard's watermark); and the
    tasks due for a retry.
    """
    high = max_change_seq(session)
    found: dict[int, Task] = {}
    if user_ids:
        for task in changes_since(session, after_seq, user_ids=list(user_ids)):
            if task.change_seq <= high:
                found[task.id] = task
    fresh = list(fresh_user_ids)
    if fresh:
        for task in session.scalars(
            select(Task).where(Task.user_id.in_(fresh), Task.change_seq <= high)
        ):
            found[task.id] = task
    for chunk in _chunks(list(retry_task_ids)):
        for task in session.scalars(select(Task).where(Task.id.in_(chunk))):
            if task.user_id in set(user_ids) | set(fresh):
                found[task.id] = task
    frame = pd.DataFrame([_task_row(t) for t in found.values()], columns=list(SC_COLUMNS))
    return SalesConnectRead(changes=frame, high_seq=high)


def _task_row(task: Task) -> dict[str, object]:
    return {
        "task_id": task.id,
        "user_id": task.user_id,
        "subject": task.subject,
        "description": task.description,
        "due_date": task.due_date,
        "priority": task.priority,
        "status": task.status,
        "task_type": task.task_type,
        "reminder_at": task.reminder_at,
        "completed_at": task.completed_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "deleted_at": task.deleted_at,
        "version": task.version,
        "change_seq": task.change_seq,
        "changed_by": task.changed_by,
    }


def links_frame(session: Session, *, task_ids: Iterable[int], sf_ids: Iterable[str]) -> pd.DataFrame:
    """The links of every task and Salesforce id involved in this shard's changes."""
    found: dict[int, TaskLink] = {}
    task_list, sf_list = list(task_ids), list(sf_ids)
    for start in range(0, max(len(task_list), len(sf_list)), _CHUNK):
        tasks, sfs = task_list[start : start + _CHUNK], sf_list[start : start + _CHUNK]
        conditions = []
        if tasks:
            conditions.append(TaskLink.task_id.in_(tasks))
        if sfs:
            conditions.append(TaskLink.sf_id.in_(sfs))
        for link in session.scalars(select(TaskLink).where(or_(*conditions))):
            found[link.task_id] = link
    data = [{c: getattr(link, c) for c in LINK_COLUMNS} for link in found.values()]
    return pd.DataFrame(data, columns=list(LINK_COLUMNS))


def linked_sf_ids(session: Session, user_ids: Sequence[int]) -> list[str]:
    """Every Salesforce id linked to these users (for reconciliation)."""
    ids: list[str] = []
    for chunk in _chunks(list(user_ids)):
        ids.extend(session.scalars(select(TaskLink.sf_id).where(TaskLink.user_id.in_(chunk))))
    return ids


def linked_among(session: Session, user_ids: Sequence[int], sf_ids: Sequence[str]) -> list[str]:
    """Which of ``sf_ids`` are linked to these users' tasks."""
    found: list[str] = []
    for chunk in _chunks(list(sf_ids)):
        found.extend(session.scalars(
            select(TaskLink.sf_id).where(TaskLink.sf_id.in_(chunk), TaskLink.user_id.in_(list(user_ids)))
        ))
    return found


def read_salesforce(
    gateway: SalesforceGateway, queries: Iterable[str], *, retry_sf_ids: Sequence[str] = ()
) -> pd.DataFrame:
    """Records answered by ``queries`` (via queryAll) and the records due for a retry, de-duplicated
    by Id keeping the newest SystemModstamp."""
    rows: list[dict[str, object]] = []
    for query in queries:
        for page in gateway.query_pages(query, include_deleted=True):
            rows.extend(page)
    for query in _by_id_queries(retry_sf_ids):
        for page in gateway.query_pages(query, include_deleted=True):
            rows.extend(page)
    frame = pd.DataFrame(rows, columns=list(SF_SELECT_FIELDS))
    if len(frame):
        frame = frame.sort_values(["Id", "SystemModstamp"]).drop_duplicates("Id", keep="last")
    return frame.reset_index(drop=True)


def _by_id_queries(sf_ids: Sequence[str]) -> list[str]:
    """Full records by id (the ones due for a retry), in packs far below SOQL's length limit."""
    return [
        f"SELECT {', '.join(SF_SELECT_FIELDS)} FROM Task WHERE Id IN ({','.join(map(soql.id_literal, pack))})"  # noqa: S608
        for pack in soql.pack_ids(sf_ids, soql.SOQL_MAX_CHARS // 2)
    ]


def deleted_frame(deleted: dict[str, dt.datetime]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"sf_id": sf_id, "deleted_at": when} for sf_id, when in deleted.items()], columns=list(SF_DELETED_COLUMNS)
    )


def missing_ids(gateway: SalesforceGateway, sf_ids: Sequence[str]) -> dict[str, dt.datetime | None]:
    """Reconciliation (SPEC §5): linked ids Salesforce no longer has, found with id-batch queries.

    Asked through ``queryAll``: ``query`` hides archived activities (closed, due over a year ago),
    which still exist and must stay. A row ``queryAll`` answers with ``IsDeleted`` is in the recycle
    bin (deleted); an id it does not answer at all was purged from it.
    """
    live: set[str] = set()
    for query in soql.existence_queries(sf_ids):
        for page in gateway.query_pages(query, include_deleted=True):
            live.update(r["Id"] for r in page if not r["IsDeleted"])
    return {sf_id: None for sf_id in sf_ids if sf_id not in live}


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
