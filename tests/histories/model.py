"""What each side must hold: the model a history builds as it plays, and what the invariants ask of it.

The model never predicts database ids or timestamps; it remembers, per task handle, who owns it on
each side, every value each side wrote (in step order), whether it is deleted or restored, and
per rep when sync was on. Conflicts are allowed to pick either side's last value (both sides use one
clock only approximately: the store's and Salesforce's stamps differ in precision), but a value
nobody wrote, or a change lost without a conflict or an error naming its record, is a violation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from task_sync.fields import MAPPED_FIELDS, SF_COMPLETED, SF_TO_SC_PRIORITY, SF_TO_SC_TYPE

SF_FIELD = {"Subject": "subject", "Description": "description", "ActivityDate": "due_date",
            "Priority": "priority", "Type": "task_type", "Status": "status"}


def canonical_sf(fields: dict[str, Any]) -> dict[str, Any]:
    """Salesforce API values in Sales Connect words (the oracle's own reading of the mapping table)."""
    out: dict[str, Any] = {}
    for api, value in fields.items():
        name = SF_FIELD.get(api)
        if name == "status":
            value = "completed" if value == SF_COMPLETED else "open"
        elif name == "priority":
            value = SF_TO_SC_PRIORITY.get(value, value)
        elif name == "task_type":
            value = SF_TO_SC_TYPE.get(value) if value else None
        elif name in ("subject", "description"):
            value = value or None
        if name:
            out[name] = value
    return out


def canonical_sc(fields: dict[str, Any]) -> dict[str, Any]:
    """Sales Connect values as compared: ``todo`` is Salesforce's no-Type, dates as ISO text."""
    out = {}
    for name, value in fields.items():
        if name == "task_type" and value == "todo":
            value = None
        if isinstance(value, dt.date):
            value = value.isoformat()
        if name in ("subject", "description"):
            value = value or None
        out[name] = value
    return out


@dataclass
class Write:
    step: int
    side: str  # "sc" | "sf"
    values: dict[str, Any]


@dataclass
class TaskModel:
    handle: str
    origin: str  # "sc" | "sf"
    created_step: int
    sc_id: int | None = None
    sf_id: str | None = None
    rep: int | None = None  # whose task it is: the rep owning it in Salesforce, or the SC creator
    sf_owner: str | None = None  # rep index as text, or "unsynced"
    preexisting: bool = False
    writes: list[Write] = field(default_factory=list)
    deleted_by: str | None = None  # "sc" | "sf" while deleted
    foreign_actions: int = 0  # SC actions by a rep who no longer owned the task (never to be written)
    restored: bool = False
    moved: bool = False  # reassigned in Salesforce at least once
    archived: bool = False
    # After each run, the fields both sides held equal: (run step, values). A side that did not write a
    # field since still holds that value, and a conflict's winner carries it in its whole record.
    agreed: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def agreed_before_last_write(self, name: str) -> set[Any]:
        """The value both sides agreed on for ``name`` after the last run before its last write (or nothing)."""
        last = max((w.step for w in self.writes if name in w.values), default=None)
        earlier = [values for step, values in self.agreed if last is None or step < last]
        return {earlier[-1][name]} if earlier and name in earlier[-1] else set()

    def last_values(self, side: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for write in self.writes:
            if write.side == side:
                values.update(write.values)
        return values

    def last_value(self, name: str) -> Any:
        value = None
        for write in self.writes:
            if name in write.values:
                value = write.values[name]
        return value


@dataclass
class RepModel:
    index: int
    user_id: int
    owner_id: str
    enabled: bool = False
    ever_enabled: bool = False
    first_enabled_step: int | None = None


@dataclass
class Model:
    tasks: dict[str, TaskModel] = field(default_factory=dict)
    reps: list[RepModel] = field(default_factory=list)
    runs: int = 0
    faults: int = 0

    def rep_of_owner(self, owner_id: str | None) -> RepModel | None:
        return next((r for r in self.reps if r.owner_id == owner_id), None)

    def synced(self, task: TaskModel) -> bool:
        """Whether the sync must keep this task on both sides now (live, owned by an enabled rep)."""
        if task.deleted_by or task.preexisting or task.sf_owner == "unsynced" or task.rep is None:
            return False
        return self.reps[task.rep].enabled

    @staticmethod
    def fields_of(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k in MAPPED_FIELDS}
