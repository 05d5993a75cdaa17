"""Where a rep's sync starts when it is switched on, first or again (SPEC §3, §5).

Why the rules look like this:
- The 24-hour import and "pre-existing Sales Connect tasks are never pushed" are about the rep's
  *first* enable (``User.first_enabled_at``). Measuring them from the latest enable would turn a
  task written while sync was on, but not pushed yet, into a pre-existing one for ever, and refuse
  Salesforce tasks created while sync was off while their edits of the same days came through.
- Switching sync back on catches up the time it was off, both ways. The Sales Connect side is
  read whole for a rep who is (re)starting (``extract.read_sales_connect``). The Salesforce side
  starts at ``User.sf_read_until`` -- the Salesforce server time of the last read the sync
  applied for that rep -- minus the late-commit overlap. Never the worker's clock: the two
  clocks differ, and Salesforce stamps ``SystemModstamp`` with its own.
- That stamp moves only when a load succeeded for a rep the diff served: a rep who switched off
  while the run was under way had their changes left alone, so that run does not count for them.
- Deletions of the time off come from ``getDeleted``, which answers for 15 days; beyond it the
  linked ids are reconciled (``windows.reenable_deleted_window``). Edits and creates come from
  ``queryAll`` on ``SystemModstamp``, which has no horizon.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from sales_connect.models import User
from task_sync.windows import DeletedWindow, import_floor, reenable_deleted_window


@dataclass(frozen=True)
class SyncStart:
    """Where a starting rep's Salesforce read begins, and for a re-enable the deletions to ask for."""

    sf_start: dt.datetime
    deleted: DeletedWindow | None  # None: a first sync (nothing linked that could be deleted)


def first_enabled(user: User) -> dt.datetime | None:
    """The moment SPEC §3's first-enable rules are measured from (rows older than the column: enabled_at)."""
    return user.first_enabled_at or user.enabled_at


def sync_start(user: User, server_now: dt.datetime, overlap: dt.timedelta) -> SyncStart:
    """A rep whose sync is (re)starting: a first sync reads from 24 hours before the first enable;
    a rep read before catches up from the Salesforce time of that read, minus the overlap."""
    if user.sf_read_until is None:
        enabled = first_enabled(user)
        if enabled is None:
            raise ValueError(f"user {user.id} has never switched sync on")
        floor = import_floor(enabled)
        # Synced before the stamp existed (an older store): catch up from the first enable.
        synced_before = user.last_synced_at is not None
        return SyncStart(floor, reenable_deleted_window(floor, server_now) if synced_before else None)
    since = user.sf_read_until - overlap
    return SyncStart(min(since, server_now), reenable_deleted_window(since, server_now))


def served_user_ids(users: pd.DataFrame) -> set[int]:
    """The reps a shard's diff synced (its users frame): only they are stamped as read."""
    enabled = users["sync_enabled"].fillna(False).astype(bool)
    return {int(u) for u in users.loc[enabled, "user_id"]}
