"""Task's own behaviour: derived fields, the activity archiver and the recycle bin.

Kept apart from the generic record code because these are rules Salesforce
applies to activities only: `IsClosed`/`IsHighPriority` follow the Status and
Priority picklists, `CompletedDateTime` tracks closing and re-opening, closed
tasks whose due date is over a year old are archived (hidden from `query`), and
deleted rows stay in the recycle bin for 15 days before being purged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sf_emulator.schema import CLOSED_STATUSES, HIGH_PRIORITIES
from sf_emulator.wire import to_storage

RECYCLE_BIN_RETENTION = timedelta(days=15)
ARCHIVE_AGE = timedelta(days=365)


def apply_task_rules(row: dict[str, Any], old: Mapping[str, Any] | None, now_text: str) -> None:
    """Recompute the derived Task fields in `row` (the full row after the write)."""
    closed = row["Status"] in CLOSED_STATUSES
    row["IsClosed"] = int(closed)
    row["IsHighPriority"] = int(row["Priority"] in HIGH_PRIORITIES)
    if not closed:
        row["CompletedDateTime"] = None
    elif old is None:
        # API creates cannot set CompletedDateTime (read-only); seeds may.
        row["CompletedDateTime"] = row.get("CompletedDateTime") or now_text
    elif not old["IsClosed"]:
        row["CompletedDateTime"] = now_text


def archive_tasks(conn: sqlite3.Connection, now: datetime) -> int:
    """Archive closed tasks due (or, undated, created) more than 365 days ago; returns how many.

    Archiving is a background job in Salesforce: it changes neither
    LastModifiedDate nor SystemModstamp.
    """
    cutoff_date = (now - ARCHIVE_AGE).date().isoformat()
    cutoff_stamp = to_storage(now - ARCHIVE_AGE)
    return conn.execute(
        "UPDATE task SET IsArchived = 1 WHERE IsClosed = 1 AND IsArchived = 0 AND ("
        " (ActivityDate IS NOT NULL AND ActivityDate < ?) OR (ActivityDate IS NULL AND CreatedDate < ?))",
        (cutoff_date, cutoff_stamp),
    ).rowcount


def purge_recycle_bin(conn: sqlite3.Connection, cutoff: datetime) -> tuple[int, str | None]:
    """Physically remove tasks deleted before ``cutoff`` (now - 15 days for Salesforce's own purge;
    later when an administrator empties the recycle bin).

    Returns how many rows were purged and the latest deletion time purged (storage text, None if
    nothing was): `deleted/` reports that time as `earliestDateAvailable`.
    """
    stamp = to_storage(cutoff)
    latest = conn.execute(
        "SELECT MAX(emu_deleted_at) AS latest FROM task WHERE IsDeleted = 1 AND emu_deleted_at < ?", (stamp,)
    ).fetchone()["latest"]
    if latest is None:
        return 0, None
    return conn.execute("DELETE FROM task WHERE IsDeleted = 1 AND emu_deleted_at < ?", (stamp,)).rowcount, latest
