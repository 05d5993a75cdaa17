"""Deletions ``getDeleted`` can no longer name: the recycle bin emptied early (SPEC §5).

``getDeleted`` answers ``earliestDateAvailable``, the last deletion Salesforce purged for good.
Normally that is 15 days back, behind every window the sync asks for. When an administrator
empties the recycle bin (or Salesforce purges a large delete log early), it moves forward: a
shard whose deletion window started before it may have lost deletions in between, and nothing
would ever tell. Those shards fall back to the id reconciliation (which linked ids still
exist), and the run's history says why and for whom. It costs one query per 2,000 linked ids of
the affected reps, once: the next run's window starts after the purge.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from task_sync.salesforce import DeletedWindow

log = logging.getLogger(__name__)


def reconcile_lost_deletions(
    shards: Sequence[Mapping[str, Any]], answer: DeletedWindow | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The shards, those whose deletion window (``deleted_from``) began before Salesforce's
    ``earliestDateAvailable`` marked for reconciliation, and the history note (None: no gap)."""
    earliest = answer.earliest_available if answer else None
    planned = [dict(s) for s in shards]
    if earliest is None:
        return planned, None
    # Salesforce ignores the seconds of a window's start: it answered from the whole minute.
    starts = {s["shard_key"]: dt.datetime.fromisoformat(s["deleted_from"]).replace(second=0, microsecond=0)
              for s in planned if s.get("deleted_from")}
    affected = [s for s in planned if s["shard_key"] in starts and starts[s["shard_key"]] < earliest]
    if not affected:
        return planned, None
    for shard in affected:
        shard["reconcile"] = True
    asked_from = min(starts[s["shard_key"]] for s in affected)
    reason = (
        f"getDeleted answers only from {earliest.isoformat()} (earliestDateAvailable: the recycle bin was "
        f"emptied or purged early), after the deletion window's start {asked_from.isoformat()}; the linked "
        "ids of the affected reps are reconciled instead"
    )
    user_ids = sorted(u for s in affected for u in s["user_ids"])
    log.warning("%s (%d rep(s))", reason, len(user_ids))
    return planned, {"reason": reason, "user_ids": user_ids}
