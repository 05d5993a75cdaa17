"""What a run has already done to each record: the load's memory across Airflow retries.

A load writes Sales Connect in its own transactions and Salesforce one collection call at a time,
so a try that dies leaves part of the shard done. Airflow then runs the task again with the same
plan. Every change notes its outcome here in the transaction that makes it; the next try skips the
records already settled (no second conflict, no second error attempt, no re-sent update), and the
run's counts are read back from these rows, so they say what the run moved whichever try moved it.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from sales_connect.models import SyncOutcome

SF_TO_SC, SC_TO_SF = "sf_to_sc", "sc_to_sf"
WRITTEN, ERROR, CONFLICT, DEFERRED = "written", "error", "conflict", "deferred"
KINDS = ("create", "update", "complete", "delete")


def _key(record: Any) -> str:
    """One spelling per id: a task id read back from a frame may be 12, 12.0 or numpy's int64."""
    if isinstance(record, numbers.Integral) or (isinstance(record, float) and record.is_integer()):
        return str(int(record))
    return str(record)


def _zero_kinds() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


@dataclass
class LoadCounts:
    """What a shard's load actually wrote (the plan says what was intended)."""

    written: dict[str, dict[str, int]] = field(default_factory=lambda: {d: _zero_kinds() for d in (SF_TO_SC, SC_TO_SF)})
    errors: int = 0
    deferred: int = 0  # Sales Connect rows a rep changed during the run: next run takes them
    conflicts: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"written": self.written, "errors": self.errors, "deferred": self.deferred, "conflicts": self.conflicts}


_PENDING = "task_sync.pending_outcomes"


def _pending(session: Session) -> list[dict[str, Any]]:
    """The outcomes noted in ``session``, written with one multi-row INSERT just before it commits:
    an ORM object per record cost a fifth of a big load's throughput. A rollback drops them with
    the changes they describe."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "before_commit", _write_pending)
        event.listen(session, "after_rollback", lambda s: s.info.get(_PENDING, []).clear())
    return pending


def _write_pending(session: Session) -> None:
    if rows := session.info.get(_PENDING):
        session.execute(insert(SyncOutcome), rows)
        rows.clear()


@dataclass
class RunOutcomes:
    """The outcomes one shard's load has noted so far in this run."""

    run_id: int
    shard_key: str
    _noted: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, run_id: int, shard_key: str) -> RunOutcomes:
        """What earlier tries of this shard's load committed."""
        outcomes = cls(run_id, shard_key)
        rows = session.execute(select(SyncOutcome.direction, SyncOutcome.record_key, SyncOutcome.outcome).where(
            SyncOutcome.run_id == run_id, SyncOutcome.shard_key == shard_key))
        outcomes._noted.update((d, k, o) for d, k, o in rows)
        return outcomes

    def settled(self, direction: str, record: Any) -> bool:
        """Whether this run already wrote the record in ``direction`` or had it refused."""
        key = _key(record)
        return (direction, key, WRITTEN) in self._noted or (direction, key, ERROR) in self._noted

    def unsettled(self, direction: str, rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return [row for row in rows if not self.settled(direction, row.get(key))]

    def note(self, session: Session, direction: str, record: Any, outcome: str, kind: str = "") -> bool:
        """Note one outcome in ``session`` (the change's own transaction). False if this run noted it
        before: the caller then leaves the record alone (its conflict or error is already kept)."""
        entry = (direction, _key(record), outcome)
        if entry in self._noted:
            return False
        if outcome == DEFERRED and (direction, entry[1], WRITTEN) in self._noted:
            return False  # an earlier try wrote it; the change_seq moved because of that write
        self._noted.add(entry)
        _pending(session).append({"run_id": self.run_id, "direction": direction, "record_key": entry[1],
                                  "outcome": outcome, "kind": kind, "shard_key": self.shard_key})
        return True

    def withdraw(self, session: Session, direction: str, record: Any, outcome: str) -> bool:
        """Take back an outcome this run noted (in ``session``'s transaction); False if it has none."""
        entry = (direction, _key(record), outcome)
        if entry not in self._noted:
            return False
        self._noted.discard(entry)
        pending = _pending(session)
        same = [row for row in pending if (row["direction"], row["record_key"], row["outcome"]) == entry]
        for row in same:
            pending.remove(row)
        if not same:  # committed by an earlier transaction of this run
            session.execute(delete(SyncOutcome).where(
                SyncOutcome.run_id == self.run_id, SyncOutcome.direction == direction,
                SyncOutcome.record_key == entry[1], SyncOutcome.outcome == outcome))
        return True

    def counts(self, session: Session) -> LoadCounts:
        """The shard's counts for the whole run, every try's included."""
        rows = session.execute(
            select(SyncOutcome.direction, SyncOutcome.outcome, SyncOutcome.kind, func.count())
            .where(SyncOutcome.run_id == self.run_id, SyncOutcome.shard_key == self.shard_key)
            .group_by(SyncOutcome.direction, SyncOutcome.outcome, SyncOutcome.kind))
        counts = LoadCounts()
        for direction, outcome, kind, n in rows:
            if outcome == WRITTEN:
                counts.written[direction][kind] += n
            elif outcome == ERROR:
                counts.errors += n
            elif outcome == CONFLICT:
                counts.conflicts += n
            elif outcome == DEFERRED:
                counts.deferred += n
        return counts
