"""Watermark and read-window rules (SPEC §5, §8): pure functions, ``now`` always injected.

Why the rules look like this:
- Salesforce changes are read by SystemModstamp, on Salesforce's clock: the end of a window is
  the Salesforce server time the caller fetched, never the worker's clock.
- A window starts at the *safe* watermark: the earlier of the XCom one (can skip or repeat a
  window, because Airflow 3 ranks prior XComs by logical date and manual/asset runs have none)
  and the durable ledger one, minus an overlap, because a Salesforce row becomes visible at
  commit with a stamp taken earlier (late commit). Re-reading is harmless: the diff's
  per-record version checks ignore what is not newer.
- ``getDeleted`` only answers for the last 15 days and ``getUpdated`` for 30. A deletion
  window that reaches further back falls back to asking Salesforce which linked ids still
  exist (reconciliation, SPEC §5). A *backfill* whose window is older than 30 days fails fast
  with a message naming the window and the limit (SPEC §8). Scheduled runs whose watermark is
  old only read more (SOQL has no horizon), so they never wedge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FIRST_SYNC_LOOKBACK = dt.timedelta(hours=24)
LATE_COMMIT_OVERLAP = dt.timedelta(minutes=5)
GET_UPDATED_HORIZON = dt.timedelta(days=30)
GET_DELETED_HORIZON = dt.timedelta(days=15)
# getUpdated/getDeleted refuse a start less than one minute before the end (INVALID_REPLICATION_DATE).
MIN_REPLICATION_SPAN = dt.timedelta(minutes=2)


class WindowTooOldError(ValueError):
    """A requested window reaches further back than Salesforce can answer."""


@dataclass(frozen=True)
class Window:
    """A half-open-in-spirit read window ``start .. end`` (both UTC; queries use ``>=`` and ``<=``)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class DeletedWindow:
    """Where deletions come from: ``getDeleted`` over ``window`` (None: nothing to ask), and
    whether the linked ids must also be reconciled because ``getDeleted`` cannot cover it all."""

    window: Window | None
    needs_reconciliation: bool


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name}={value!r} is naive; watermarks and windows are timezone-aware UTC")
    return value.astimezone(dt.UTC)


def import_floor(enabled_at: dt.datetime) -> dt.datetime:
    """Oldest Salesforce change imported for a user: 24 hours before sync was switched on (SPEC §3)."""
    return _utc(enabled_at, "enabled_at") - FIRST_SYNC_LOOKBACK


def safe_watermark(xcom: dt.datetime | None, ledger: dt.datetime | None) -> dt.datetime | None:
    """The earlier of the XCom and the durable ledger watermark; None when neither exists."""
    known = [_utc(v, name) for v, name in ((xcom, "xcom"), (ledger, "ledger")) if v is not None]
    return min(known) if known else None


def read_window(
    xcom: dt.datetime | None,
    ledger: dt.datetime | None,
    server_now: dt.datetime,
    initial_start: dt.datetime,
    overlap: dt.timedelta = LATE_COMMIT_OVERLAP,
) -> Window:
    """The SystemModstamp window of a shard's incremental read.

    ``initial_start`` is where a shard with no watermark at all begins (the earliest
    ``import_floor`` of its users). The start never passes ``server_now``.
    """
    now = _utc(server_now, "server_now")
    safe = safe_watermark(xcom, ledger)
    start = (safe - overlap) if safe is not None else _utc(initial_start, "initial_start")
    return Window(start=min(start, now), end=now)


def first_sync_window(enabled_at: dt.datetime, server_now: dt.datetime) -> Window:
    """The read window of a user's first sync: from 24 hours before switch-on to now."""
    now = _utc(server_now, "server_now")
    return Window(start=min(import_floor(enabled_at), now), end=now)


def deleted_window(
    covered_until: dt.datetime | None,
    server_now: dt.datetime,
    overlap: dt.timedelta = LATE_COMMIT_OVERLAP,
) -> DeletedWindow:
    """Steady state: ask ``getDeleted`` from the last ``latestDateCovered`` (minus overlap) to now.

    With no record of a previous scan, or one older than 15 days, ``getDeleted`` cannot answer
    for the gap, so it is asked for what it can and the linked ids are reconciled.
    """
    now = _utc(server_now, "server_now")
    horizon = now - GET_DELETED_HORIZON + MIN_REPLICATION_SPAN
    if covered_until is None:
        return DeletedWindow(Window(horizon, now), needs_reconciliation=True)
    start = _utc(covered_until, "covered_until") - overlap
    if start < horizon:
        return DeletedWindow(Window(horizon, now), needs_reconciliation=True)
    return DeletedWindow(Window(min(start, now - MIN_REPLICATION_SPAN), now), needs_reconciliation=False)


def reenable_deleted_window(disabled_at: dt.datetime, server_now: dt.datetime) -> DeletedWindow:
    """Sync switched back on: deletions made while it was off (SPEC §5).

    ``getDeleted`` covers ``max(disabled_at, now - 15 days) .. now``; when sync was off longer
    than 15 days, deletions before that are unknowable from it, so the ids are reconciled too.
    """
    now = _utc(server_now, "server_now")
    off_since = _utc(disabled_at, "disabled_at")
    horizon = now - GET_DELETED_HORIZON + MIN_REPLICATION_SPAN
    start = min(max(off_since, horizon), now - MIN_REPLICATION_SPAN)
    return DeletedWindow(Window(start, now), needs_reconciliation=off_since < horizon)


def updated_window(start: dt.datetime, server_now: dt.datetime) -> Window:
    """The ``getUpdated`` window that finds linked records handed to owners the sync does not read:
    from ``start`` (the earliest shard read), clamped into what ``getUpdated`` accepts (30 days back,
    more than a minute long). A hand-over older than 30 days is beyond it; reconciliation keeps ids."""
    now = _utc(server_now, "server_now")
    horizon = now - GET_UPDATED_HORIZON + MIN_REPLICATION_SPAN
    return Window(min(max(_utc(start, "start"), horizon), now - MIN_REPLICATION_SPAN), now)


def backfill_windows(
    interval_start: dt.datetime,
    interval_end: dt.datetime,
    server_now: dt.datetime,
    overlap: dt.timedelta = LATE_COMMIT_OVERLAP,
) -> tuple[Window, DeletedWindow]:
    """The windows a backfill run replays: its data interval, from ``overlap`` before its start
    (what the run before it may have missed to a late commit), for changes and for deletions.

    Raises ``WindowTooOldError`` when the interval starts before ``getUpdated``'s 30-day horizon;
    a deletion window past the 15-day horizon falls back to reconciliation instead.
    """
    start, end = _utc(interval_start, "interval_start"), _utc(interval_end, "interval_end")
    now = _utc(server_now, "server_now")
    if end < start:
        raise ValueError(f"backfill interval {start.isoformat()} .. {end.isoformat()} ends before it starts")
    updated_horizon = now - GET_UPDATED_HORIZON
    if start < updated_horizon:
        raise WindowTooOldError(
            f"backfill window {start.isoformat()} .. {end.isoformat()} starts before Salesforce's "
            f"getUpdated horizon of {GET_UPDATED_HORIZON.days} days (earliest answerable start: "
            f"{updated_horizon.isoformat()}); replay a newer window or run a full reconciliation"
        )
    changes = Window(start - overlap, min(end, now))
    deleted_horizon = now - GET_DELETED_HORIZON + MIN_REPLICATION_SPAN
    if start < deleted_horizon:
        return changes, DeletedWindow(Window(deleted_horizon, now), needs_reconciliation=True)
    deleted_end = min(end, now)
    deleted_start = min(max(start - overlap, deleted_horizon), deleted_end - MIN_REPLICATION_SPAN)
    return changes, DeletedWindow(Window(deleted_start, deleted_end), needs_reconciliation=False)
