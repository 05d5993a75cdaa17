"""A Salesforce record that comes back to the Sales Connect row the sync had taken out of a rep's list.

The sync removes a rep's task from their list when Salesforce takes it away: deleted there, or given
to another rep or to someone the sync does not serve. The record can come back -- reassigned back,
undeleted from the recycle bin, re-created by an upsert on ``Sales_Connect_Id__c`` (how Data Loader
restores) -- and is then offered to the row its external id names (``diff`` plans it as a create
with ``sales_connect_id``). Who tombstoned that row decides (issue 10 #2, SPEC §7):

- the sync (``changed_by == "sync"``): the task left the list only because Salesforce took it away;
  it is live again, in the same row, shown in the Command Center when due;
- the rep: their own deletion wins over the restore (delete-wins): the row stays deleted, the
  restored record is deleted again in Salesforce and a conflict keeps the restored version.

The loader marks a tombstone the sync's when an owner change removes a task the rep had deleted in
the meantime: that deletion lost to the owner change (``RULE_OWNER_CHANGED``), it is not the rep's.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from sales_connect.models import CHANGED_BY_SYNC, Task
from task_sync.diff import RULE_DELETE_WINS, WINNER_SC


class Adoption(Enum):
    LIVE = "live"  # the row is in the rep's list: the record is linked to it as it is
    REVIVED = "revived"  # the sync had removed it: it is live again
    REFUSED = "refused"  # the rep deleted it: the deletion stands


def adopt(task: Task) -> Adoption:
    """Decide what a record coming back to ``task`` (same rep) does to it; revives it when it may."""
    if task.deleted_at is None:
        return Adoption.LIVE
    if task.changed_by != CHANGED_BY_SYNC:
        return Adoption.REFUSED
    task.deleted_at = None
    return Adoption.REVIVED


def redelete(row: dict[str, Any], task: Task) -> dict[str, Any]:
    """The Salesforce deletion (a ``sc_to_sf.deletions`` row) of a restored record the rep had deleted."""
    return {"task_id": task.id, "user_id": task.user_id, "sf_id": row["sf_id"],
            "expected_sf_modstamp": row.get("sf_modstamp"), "sc_seq": task.change_seq, "reason": "deleted"}


def refused_conflict(row: dict[str, Any], task: Task, *, when: Any) -> dict[str, Any]:
    """The conflict that records a refused restore with both versions (``ledger.record_conflict`` arguments)."""
    deleted_at = task.deleted_at
    if deleted_at is not None and deleted_at.tzinfo is None:
        deleted_at = deleted_at.replace(tzinfo=dt.UTC)
    return {
        "user_id": task.user_id, "task_id": task.id, "sf_id": row["sf_id"],
        "sc_version": {"deleted_at": deleted_at.isoformat() if deleted_at else None},
        "sf_version": dict(row.get("sf_values") or {}), "sc_modified_at": deleted_at, "sf_modified_at": when,
        "winner": WINNER_SC, "rule": RULE_DELETE_WINS,
    }
