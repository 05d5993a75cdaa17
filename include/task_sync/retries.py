"""The run-time side of per-record errors: reading the records due for a retry, and closing the
errors whose cause has gone away.

**One read per run.** The Salesforce records whose import was refused and whose retry is due are
read by id once, in the plan step, for the whole run (``queryAll``, ids packed under the URI cap:
one query per ~480 ids, see ``soql.pack_ids``), and each shard gets the rows of its own owners.
Read in each shard instead, every shard paid for every id. An id Salesforce no longer knows at
all (purged from the recycle bin) closes its errors there and then: the record is gone.

**Errors close when their cause goes away**, not only when a write goes through. After the diff,
a record it looked at again that needs no write in the refused direction and is not refused again
has nothing left to retry: the change was undone (both sides agree again), the task was deleted
before it was ever pushed, it became pre-existing, or the other side's version replaced it. A
record deleted in Salesforce closes every error of that record, both directions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sales_connect.models import SyncError
from sales_connect.sf_ids import comparable
from task_sync import extract
from task_sync.diff import DirectionPlan, SyncPlan
from task_sync.salesforce import SalesforceGateway
from task_sync.validation import SIDE_SC, SIDE_SF

SC_TO_SF, SF_TO_SC = "sc_to_sf", "sf_to_sc"
_CHUNK = 900  # ids per IN (...): under every backend's bound-parameter limit
# Unchanged reasons that mean "paused", not "settled": the error stays open for when sync is back on.
_PAUSED = frozenset({"sync_disabled"})


def due_sf_ids(session: Session, now: dt.datetime, user_ids: Iterable[int]) -> list[str]:
    """Salesforce ids whose open import error is due: of these users, or of no user (owner not mapped)."""
    users = list(user_ids)
    rows = session.scalars(
        select(SyncError.sf_id).where(
            SyncError.resolved_at.is_(None), SyncError.direction == SF_TO_SC, SyncError.sf_id.is_not(None),
            SyncError.next_retry_at <= now, or_(SyncError.user_id.is_(None), SyncError.user_id.in_(users)),
        )
    )
    return sorted(set(rows))


def read_due(
    session: Session, gateway: SalesforceGateway, *, now: dt.datetime, user_ids: Iterable[int], settle: bool = True
) -> pd.DataFrame:
    """The raw rows of every record due for a retry (one read for the run); with ``settle`` (not in a
    dry run) closes the errors of the ids Salesforce does not answer at all."""
    wanted = due_sf_ids(session, now, user_ids)
    rows = extract.read_salesforce(gateway, [], retry_sf_ids=wanted)
    if settle:
        close_errors(session, now=now, sf_ids=set(wanted) - {comparable(i) for i in rows["Id"]})
    return rows


def split_by_owner(rows: pd.DataFrame, owner_packs: Sequence[Sequence[str]]) -> list[pd.DataFrame]:
    """``rows`` divided among shards by ``OwnerId``; rows no shard owns go to the first one (its diff
    refuses or skips them, e.g. "owner not mapped", like any other unowned record)."""
    owners = rows["OwnerId"].map(comparable) if len(rows) else pd.Series(dtype=object)
    taken = pd.Series(False, index=rows.index)
    parts = []
    for pack in owner_packs:
        mine = owners.isin([comparable(o) for o in pack])
        parts.append(rows[mine])
        taken |= mine
    if parts:
        parts[0] = pd.concat([parts[0], rows[~taken]])
    return [p.reset_index(drop=True) for p in parts]


def close_errors(
    session: Session, *, now: dt.datetime, direction: str | None = None, task_ids: Iterable[int] = (),
    sf_ids: Iterable[str] = (),
) -> int:
    """Close the open errors of these records (of one direction, or of both)."""
    closed = 0
    for column, values in ((SyncError.task_id, sorted(set(task_ids))), (SyncError.sf_id, sorted(set(sf_ids)))):
        for start in range(0, len(values), _CHUNK):
            query = select(SyncError).where(SyncError.resolved_at.is_(None),
                                            column.in_(values[start : start + _CHUNK]))
            if direction is not None:
                query = query.where(SyncError.direction == direction)
            for error in session.scalars(query):
                error.resolved_at = now
                closed += 1
    return closed


def deleted_ids(sf_changes: pd.DataFrame, sf_deleted: pd.DataFrame) -> set[str]:
    """Ids Salesforce reports deleted to this shard (``getDeleted``, reconciliation, ``IsDeleted`` rows),
    minus those it also answered live (restored from the recycle bin)."""
    raw = sf_changes["IsDeleted"].map(lambda x: x is True or str(x).lower() == "true") if len(sf_changes) else None
    deleted = {comparable(i) for i in sf_deleted["sf_id"]} | (
        {comparable(i) for i in sf_changes.loc[raw, "Id"]} if raw is not None else set())
    live = {comparable(i) for i in sf_changes.loc[~raw, "Id"]} if raw is not None else set()
    return deleted - live


def close_settled(session: Session, plan: SyncPlan, *, deleted_sf_ids: Iterable[str], now: dt.datetime) -> int:
    """Close the errors whose cause this shard's plan shows gone (see the module docstring)."""
    refused = plan.quarantined
    sc_busy = _ids(refused[refused["direction"] == SC_TO_SF], "task_id").union(
        *(_ids(frame, "task_id") for frame in _writes(plan.sc_to_sf)))
    sf_busy = _ids(refused[refused["direction"] == SF_TO_SC], "sf_id").union(
        *(_ids(frame, "sf_id") for frame in _writes(plan.sf_to_sc)[:3]))
    unchanged = plan.unchanged[~plan.unchanged["reason"].isin(_PAUSED)]
    echoes = plan.echoes_skipped
    # Nothing to push any more: agreed again, deleted unpushed, pre-existing, or Salesforce's version won.
    sc_settled = _ids(unchanged[unchanged["side"] == SIDE_SC], "task_id").union(
        _ids(echoes[echoes["side"] == SIDE_SC], "task_id"), _ids(plan.skipped_preexisting, "task_id"),
        _ids(plan.sf_to_sc.updates, "task_id"), _ids(plan.sf_to_sc.completions, "task_id"))
    # Nothing to import any more: agreed again, outside the import window, or one of our own pushes.
    sf_settled = _ids(unchanged[unchanged["side"] == SIDE_SF], "sf_id") | _ids(echoes[echoes["side"] == SIDE_SF],
                                                                                 "sf_id")
    # The record left Salesforce or this rep: every error of it, both directions.
    gone_sf = set(deleted_sf_ids) | _ids(plan.sf_to_sc.deletions, "sf_id")
    return (
        close_errors(session, now=now, direction=SC_TO_SF, task_ids=sc_settled - sc_busy)
        + close_errors(session, now=now, direction=SF_TO_SC, sf_ids=sf_settled - sf_busy)
        + close_errors(session, now=now, task_ids=_ids(plan.sf_to_sc.deletions, "task_id") - sc_busy)
        + close_errors(session, now=now, sf_ids=gone_sf - sf_busy)
    )


def _writes(direction: DirectionPlan) -> list[pd.DataFrame]:
    return [direction.creates, direction.updates, direction.completions, direction.deletions]


def _ids(frame: pd.DataFrame, column: str) -> set:
    return {value for value in frame[column] if value is not None and not pd.isna(value)} if len(frame) else set()
