"""The data-replication resources: `sobjects/X/updated/` and `sobjects/X/deleted/`.

Salesforce's window rules: `start` must precede `end` by more than a minute,
`updated` answers for the last 30 days and `deleted` for the last 15 (the
recycle bin's retention, or less once the bin was emptied: `earliestDateAvailable`), more than
600,000 matching ids is EXCEEDED_ID_LIMIT, seconds are truncated, and `latestDateCovered` is
the end of the window actually covered (never past the server's now). Both are
based on the server clock, which is what lets a sync poll without trusting its
own clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sf_emulator.org import Emulator
from sf_emulator.schema import ObjectSchema
from sf_emulator.wire import ApiError, parse_datetime, storage_to_wire, to_storage, to_wire

UPDATED_LOOKBACK = timedelta(days=30)
DELETED_LOOKBACK = timedelta(days=15)


def _window(start_text: str | None, end_text: str | None, now: datetime, lookback: timedelta
            ) -> tuple[datetime, datetime]:
    if not start_text or not end_text:
        raise ApiError(400, "MISSING_ARGUMENT", "Both start and end parameters are required")
    try:
        start, end = parse_datetime(start_text), parse_datetime(end_text)
    except ValueError:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       f"start and end must be ISO-8601 date/times, got start={start_text} end={end_text}") from None
    if end - start <= timedelta(minutes=1):
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       "startDate must chronologically precede endDate by more than one minute")
    if start < now - lookback:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       f"startDate cannot be more than {lookback.days} days ago")
    floor = timedelta(seconds=start.second, microseconds=start.microsecond)
    start = start - floor
    end = min(end, now)
    end = end - timedelta(seconds=end.second, microseconds=end.microsecond)
    return start, end


def _id_limit_checked(rows: list, limit: int) -> list:
    """Salesforce refuses a window matching more than ``limit`` ids (600,000; lowered for tests through
    the control plane) rather than answering part of it."""
    if len(rows) > limit:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       f"More than {limit} ids match; choose start and end dates that are closer together")
    return rows


def _ceil_minute(moment: datetime) -> datetime:
    """Round up to the minute: reporting an earlier time would claim purged deletions are still there."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def get_updated(org: Emulator, schema: ObjectSchema, start: str | None, end: str | None) -> dict:
    """Ids whose SystemModstamp falls in [start, end), deleted rows excluded."""
    lo, hi = _window(start, end, org.clock.now(), UPDATED_LOOKBACK)
    live = " AND IsDeleted = 0" if schema.field("IsDeleted") else ""
    rows = org.store.read(
        f"SELECT Id FROM {schema.table} WHERE SystemModstamp >= ? AND SystemModstamp < ?{live}"  # noqa: S608
        f" ORDER BY SystemModstamp LIMIT {org.replication_id_limit + 1}",
        (to_storage(lo), to_storage(hi)),
    )
    _id_limit_checked(rows, org.replication_id_limit)
    return {"ids": [r["Id"] for r in rows], "latestDateCovered": to_wire(hi)}


def get_deleted(org: Emulator, schema: ObjectSchema, start: str | None, end: str | None) -> dict:
    """Rows moved to the recycle bin in [start, end), with their deletion time."""
    lo, hi = _window(start, end, org.clock.now(), DELETED_LOOKBACK)
    records = []
    if schema.field("IsDeleted"):
        rows = _id_limit_checked(org.store.read(
            f"SELECT Id, emu_deleted_at FROM {schema.table} WHERE IsDeleted = 1"  # noqa: S608
            f" AND emu_deleted_at >= ? AND emu_deleted_at < ?"
            f" ORDER BY emu_deleted_at LIMIT {org.replication_id_limit + 1}",
            (to_storage(lo), to_storage(hi)),
        ), org.replication_id_limit)
        records = [{"id": r["Id"], "deletedDate": storage_to_wire(r["emu_deleted_at"])} for r in rows]
    return {
        "deletedRecords": records,
        "earliestDateAvailable": to_wire(_ceil_minute(parse_datetime(org.earliest_deleted_available()))),
        "latestDateCovered": to_wire(hi),
    }
