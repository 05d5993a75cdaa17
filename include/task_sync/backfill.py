"""What a backfill run reads: its data interval plus the overlap, on both sides (issue 10 #13).

A backfill replays a past window (SPEC §8). Reading Salesforce to now and every Sales Connect
task of the shard (what an incremental read with no watermark does) made each backfill run of a
long range cost a full scan and redo the work of the runs after it. So a backfill run reads:

- Salesforce: SystemModstamp in ``interval_start - overlap .. interval_end`` (``queryAll``),
  ``getDeleted`` and ``getUpdated`` over the same window (``windows.backfill_windows``);
- Sales Connect: the shard's tasks whose last change (``updated_at``, stamped by change
  capture on the store's clock) falls in that window. The change sequence cannot bound a past
  window: nothing records which sequence number was current at a given time.

What changed after the window is the incremental runs' work (their watermarks never depend on a
backfill), and the per-record version checks keep a replay from overwriting newer data. A
backfill is not anyone's first sync either: that needs the 24 hours before switch-on and every
task, so it is left to the next incremental run, as are the records due for a retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sales_connect.changes import max_change_seq
from sales_connect.models import Task
from task_sync.extract import SalesConnectRead, task_frame
from task_sync.salesforce import SalesforceGateway
from task_sync.windows import WindowTooOldError, backfill_windows


def interval(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """The data interval a backfill run replays; a run without one cannot be a backfill of it."""
    if start is None or end is None:
        raise WindowTooOldError("a backfill run has no data interval to replay")
    return start, end


def refuse_unanswerable(start: dt.datetime | None, end: dt.datetime | None, gateway: SalesforceGateway) -> int:
    """A backfill window Salesforce can no longer answer fails at once, whoever has sync on.

    Checked before anything else so the answer never depends on who is enabled. Returns the
    API calls spent (one: Salesforce's clock).
    """
    backfill_windows(*interval(start, end), gateway.server_time())
    return gateway.calls


def read_sales_connect(
    session: Session, *, user_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> SalesConnectRead:
    """The tasks of ``user_ids`` last changed in ``start .. end`` (tombstones included)."""
    high = max_change_seq(session)
    tasks = session.scalars(
        select(Task).where(Task.user_id.in_(list(user_ids)), Task.updated_at >= start, Task.updated_at <= end,
                           Task.change_seq <= high).order_by(Task.change_seq)
    ) if user_ids else []
    return SalesConnectRead(changes=task_frame(tasks), high_seq=high)
