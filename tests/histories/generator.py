"""Seeded random histories: a list of plain, JSON-able steps (so a history prints, replays and shrinks).

A step names tasks by *handle* (``t3``: the third task created in the history, on either side) and reps
by index, never by database id, so removing steps while shrinking leaves the others meaningful; a
step whose handle or rep no longer exists is skipped when replayed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, field
from typing import Any

TIME_ZONES = ("UTC", "America/Los_Angeles", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago")
SC_PRIORITIES = ("high", "normal", "low")
SC_TYPES = ("call", "email", "meeting", "other", "todo", None)
SF_OPEN_WORDS = ("Not Started", "In Progress", "Waiting on someone else", "Deferred")
SF_PRIORITIES = ("High", "Normal", "Low")
SF_TYPES = ("Call", "Email", "Meeting", "Other", None)
RUN_KINDS = ("scheduled", "scheduled", "scheduled", "user_ids", "backfill", "dry_run", "full_reconcile")
FAULTS = ("http_503", "http_500", "lock_rows", "request_limit", "expired_session")
CRASH_POINTS = ("plan", "extract", "diff", "load", "publish")


@dataclass(frozen=True)
class Step:
    """One thing that happens: ``kind`` plus its arguments (``task`` handle, ``rep`` index, values)."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def as_code(self) -> str:
        return f"Step({self.kind!r}, {self.args!r})"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _due(rng: random.Random, time_zone: str) -> str | None:
    """A due date around today and tomorrow as seen in ``time_zone`` (or none)."""
    from zoneinfo import ZoneInfo

    if rng.random() < 0.15:
        return None
    today = dt.datetime.now(ZoneInfo(time_zone)).date()
    return (today + dt.timedelta(days=rng.choice((-1, 0, 0, 1, 1, 2)))).isoformat()


class HistoryGenerator:
    """Draws ``length`` steps from ``seed``; weights favour what finds defects (edits racing runs)."""

    def __init__(self, seed: int, length: int = 40) -> None:
        self.rng = random.Random(seed)
        self.length = length
        self.tasks = 0
        self.reps = 0
        self.texts = 0

    def history(self) -> list[Step]:
        steps = [Step("add_rep", {"tz": self.rng.choice(TIME_ZONES)}) for _ in range(2)]
        self.reps = 2
        steps += [self._create() for _ in range(self.rng.randint(0, 2))]  # pre-existing, before any enable
        steps += [Step("sync", {"rep": r, "on": True}) for r in range(2)]
        steps.append(Step("run", {"kind": "scheduled"}))
        while len(steps) < self.length:
            steps.append(self._step())
        return steps

    def _text(self, what: str) -> str:
        self.texts += 1
        return f"{what} {self.texts}"

    def _task(self) -> str:
        return f"t{self.rng.randrange(self.tasks)}" if self.tasks else "t0"

    def _rep(self) -> int:
        return self.rng.randrange(self.reps)

    def _create(self) -> Step:
        handle = f"t{self.tasks}"
        self.tasks += 1
        tz = self.rng.choice(TIME_ZONES)
        if self.rng.random() < 0.5:
            return Step("sc_create", {"task": handle, "rep": self._rep(), "subject": self._text("call back"),
                                      "due_date": _due(self.rng, tz), "priority": self.rng.choice(SC_PRIORITIES),
                                      "task_type": self.rng.choice(SC_TYPES)})
        return Step("sf_create", {"task": handle, "rep": self._rep(), "Subject": self._text("follow up"),
                                  "ActivityDate": _due(self.rng, tz), "Priority": self.rng.choice(SF_PRIORITIES),
                                  "Type": self.rng.choice(SF_TYPES)})

    def _sc_edit(self) -> dict[str, Any]:
        field_name = self.rng.choice(("subject", "description", "due_date", "priority", "task_type"))
        value: Any = {
            "subject": lambda: self._text("edited in SC"), "description": lambda: self._text("notes"),
            "due_date": lambda: _due(self.rng, self.rng.choice(TIME_ZONES)),
            "priority": lambda: self.rng.choice(SC_PRIORITIES), "task_type": lambda: self.rng.choice(SC_TYPES),
        }[field_name]()
        return {field_name: value}

    def _sf_edit(self) -> dict[str, Any]:
        field_name = self.rng.choice(("Subject", "Description", "ActivityDate", "Priority", "Type", "Status"))
        value: Any = {
            "Subject": lambda: self._text("edited in SF"), "Description": lambda: self._text("SF notes"),
            "ActivityDate": lambda: _due(self.rng, self.rng.choice(TIME_ZONES)),
            "Priority": lambda: self.rng.choice(SF_PRIORITIES), "Type": lambda: self.rng.choice(SF_TYPES),
            "Status": lambda: self.rng.choice(SF_OPEN_WORDS),
        }[field_name]()
        return {field_name: value}

    def _step(self) -> Step:
        rng = self.rng
        choice = rng.choices(
            ("create", "sc", "sf", "sf_move", "sf_restore", "settings", "clock", "run", "fault", "crash", "kill"),
            weights=(14, 18, 16, 5, 4, 3, 4, 20, 6, 4, 1))[0]
        if choice == "create" or not self.tasks:
            return self._create()
        task = self._task()
        if choice == "sc":
            action = rng.choice(("edit", "edit", "complete", "reopen", "delete"))
            args = {"task": task, "action": action}
            if action == "edit":
                args["fields"] = self._sc_edit()
            return Step("sc_act", args)
        if choice == "sf":
            action = rng.choice(("edit", "edit", "complete", "delete", "refused"))
            args = {"task": task, "action": action}
            if action == "edit":
                args["fields"] = self._sf_edit()
            return Step("sf_act", args)
        if choice == "sf_move":
            target = rng.choice([*range(self.reps), "unsynced"])
            return Step("sf_reassign", {"task": task, "to": target})
        if choice == "sf_restore":
            return Step(rng.choice(("sf_undelete", "sf_upsert_restore")), {"task": task})
        if choice == "settings":
            if self.reps < 3 and rng.random() < 0.3:
                self.reps += 1
                return Step("add_rep", {"tz": rng.choice(TIME_ZONES), "on": True})
            return Step("sync", {"rep": self._rep(), "on": rng.random() < 0.6,
                                 "away_days": rng.choice((0, 0, 0, 16))})
        if choice == "clock":
            return Step("clock", {"seconds": rng.choice((30, 61, 300, 3600))})
        if choice == "run":
            kind = rng.choice(RUN_KINDS)
            args = {"kind": kind}
            if kind == "user_ids":
                args["reps"] = [self._rep()]
            if rng.random() < 0.25:
                args["during"] = [self._during()]
            return Step("run", args)
        if choice == "fault":
            return Step("fault", {"fault": rng.choice(FAULTS), "task": task})
        if choice == "crash":
            return Step("run", {"kind": "scheduled", "stop_after": rng.choice(CRASH_POINTS)})
        return Step("run", {"kind": "scheduled", "kill_load": True, "during": [self._during()]})

    def _during(self) -> dict[str, Any]:
        """An edit made while a run loads from the plan it already made (a nested step, as a dict)."""
        if self.rng.random() < 0.6:
            return {"kind": "sf_act", "args": {"task": self._task(), "action": "edit", "fields": self._sf_edit()}}
        return {"kind": "sc_act", "args": {"task": self._task(), "action": "edit", "fields": self._sc_edit()}}
