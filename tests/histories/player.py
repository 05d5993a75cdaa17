"""Plays a history against a ``World`` while keeping its ``Model``; checks invariants as it goes.

Each step is applied to the real system, and the model records what it means (who owns the task,
what each side wrote, what is deleted or restored). After every run the per-run invariants are
checked; at the end faults are cleared, two quiet scheduled runs follow, and convergence is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator import Step
from invariants import RunSnapshot, Violation, check_converged, check_run, sc_values, sf_values
from model import Model, RepModel, TaskModel, Write, canonical_sc, canonical_sf
from world import World


@dataclass
class Outcome:
    violations: list[Violation] = field(default_factory=list)
    steps: int = 0
    runs: int = 0
    faults: int = 0

    def rules(self) -> list[str]:
        return [v.rule for v in self.violations]


class Player:
    def __init__(self, world: World) -> None:
        self.world = world
        self.model = Model()
        self.armed: list[str] = []
        self.limit_armed = False

    # -- resolving handles ----------------------------------------------------------------------

    def _task(self, args: dict[str, Any]) -> TaskModel | None:
        return self.model.tasks.get(args.get("task", ""))

    def _rep(self, index: Any) -> RepModel | None:
        return self.model.reps[index] if isinstance(index, int) and index < len(self.model.reps) else None

    def _sf_id(self, task: TaskModel) -> str | None:
        if task.sf_id is None and task.sc_id is not None:
            link = next((lk for lk in self.world.links() if lk.task_id == task.sc_id), None)
            task.sf_id = link.sf_id if link else None
        return task.sf_id

    def _sc_row(self, task: TaskModel) -> Any:
        """The Sales Connect row the task is shown as now: the one linked to its Salesforce id, else its own."""
        sf_id = self._sf_id(task)
        link = next((lk for lk in self.world.links() if sf_id and lk.sf_id == sf_id), None)
        wanted = link.task_id if link else task.sc_id
        return next((t for t in self.world.sc_rows() if t.id == wanted), None)

    # -- steps ----------------------------------------------------------------------------------

    def play(self, steps: list[Step], *, quiet_runs: int = 2) -> Outcome:
        outcome = Outcome()
        for number, step in enumerate(steps):
            handler = getattr(self, f"_do_{step.kind}")
            if handler(number, **step.args) is False:
                continue
            outcome.steps += 1
            if step.kind == "run":
                outcome.violations += self._last_run_violations
                if outcome.violations:
                    break
        if not outcome.violations:
            self._clear_faults()
            self.world.advance(90)
            for _ in range(quiet_runs):
                self._do_run(len(steps), kind="scheduled")
                outcome.violations += self._last_run_violations
            outcome.violations += check_converged(self.world, self.model)
        outcome.runs, outcome.faults = self.model.runs, self.model.faults
        return outcome

    def _do_add_rep(self, step: int, tz: str, on: bool = False) -> bool:
        rep = self.world.add_rep(tz)
        if rep is None:
            return False
        self.model.reps.append(RepModel(len(self.model.reps), rep.user_id, rep.owner_id))
        if on:
            self._do_sync(step, rep=len(self.model.reps) - 1, on=True)
        return True

    def _do_sync(self, step: int, rep: int, on: bool, away_days: int = 0) -> bool:
        model = self._rep(rep)
        if model is None or model.enabled == on:
            return False
        if on and away_days:
            self.world.advance(away_days * 86400)
        self.world.set_sync(self.world.reps[rep], on)
        model.enabled = on
        if on and not model.ever_enabled:
            model.ever_enabled, model.first_enabled_step = True, step
        return True

    def _do_sc_create(self, step: int, task: str, rep: int, **fields: Any) -> bool:
        owner = self._rep(rep)
        if owner is None:
            return False
        fields = {k: v for k, v in fields.items()}
        sc_id = self.world.sc_create(self.world.reps[rep], fields)
        values = canonical_sc({**fields, "status": "open", "description": None})
        self.model.tasks[task] = TaskModel(task, "sc", step, sc_id=sc_id, rep=rep, sf_owner=str(rep),
                                           preexisting=not owner.ever_enabled)
        self.model.tasks[task].writes.append(_write(step, "sc", values))
        return True

    def _do_sf_create(self, step: int, task: str, rep: int, **fields: Any) -> bool:
        owner = self._rep(rep)
        if owner is None:
            return False
        sf_id = self.world.sf("create", {**fields, "OwnerId": owner.owner_id})
        if sf_id is None:
            return False
        values = canonical_sf({"Status": "Not Started", "Description": None, **fields})
        self.model.tasks[task] = TaskModel(task, "sf", step, sf_id=sf_id, rep=rep, sf_owner=str(rep))
        self.model.tasks[task].writes.append(_write(step, "sf", values))
        return True

    def _do_sc_act(self, step: int, task: str, action: str, fields: dict | None = None) -> bool:
        model = self.model.tasks.get(task)
        row = self._sc_row(model) if model else None
        if model is None or row is None or row.deleted_at is not None:
            return False
        actor = next(r for r in self.model.reps if r.user_id == row.user_id)
        if not self.world.sc_act(self.world.reps[actor.index], row.id, action, fields):
            return False
        if model.sf_owner != str(actor.index):
            model.foreign_actions += 1  # the task left this rep in Salesforce: never to be written there
            return True
        model.sc_id = row.id
        if action == "delete":
            model.deleted_by = model.deleted_by or "sc"
        elif action == "edit":
            model.writes.append(_write(step, "sc", canonical_sc(fields or {})))
        else:
            model.writes.append(_write(step, "sc", {"status": "completed" if action == "complete" else "open"}))
        return True

    def _do_sf_act(self, step: int, task: str, action: str, fields: dict | None = None) -> bool:
        model = self.model.tasks.get(task)
        sf_id = self._sf_id(model) if model else None
        if model is None or sf_id is None:
            return False
        if action == "delete":
            if self.world.sf("delete", sf_id) is None:
                return False
            model.deleted_by = model.deleted_by or "sf"
            return True
        body = {"edit": fields or {}, "complete": {"Status": "Completed"},
                "refused": {"Priority": "Urgent"}}[action]
        if self.world.sf("update", sf_id, body) is None:
            return action == "refused"
        if action == "refused":
            raise AssertionError("the emulator accepted a Priority Salesforce refuses")
        model.writes.append(_write(step, "sf", canonical_sf(body)))
        return True

    def _do_sf_reassign(self, step: int, task: str, to: Any) -> bool:
        model = self.model.tasks.get(task)
        sf_id = self._sf_id(model) if model else None
        target = self.world.unsynced_owner if to == "unsynced" else getattr(self._rep(to), "owner_id", None)
        if model is None or sf_id is None or target is None or model.deleted_by or model.preexisting:
            return False
        if self.world.sf("update", sf_id, {"OwnerId": target}) is None:
            return False
        model.sf_owner, model.moved = str(to), True
        model.rep = to if isinstance(to, int) else model.rep
        return True

    def _do_sf_undelete(self, step: int, task: str) -> bool:
        model = self.model.tasks.get(task)
        if model is None or model.deleted_by != "sf" or not model.sf_id or not self.world.undelete(model.sf_id):
            return False
        model.deleted_by, model.restored = None, True
        return True

    def _do_sf_upsert_restore(self, step: int, task: str) -> bool:
        """Data Loader's restore: upsert the deleted record's values on its external id (a new record)."""
        model = self.model.tasks.get(task)
        if model is None or model.deleted_by != "sf" or not model.sf_id:
            return False
        (row,) = self.world.emu.tasks([model.sf_id]) or [None]
        if not row or not row.get("Sales_Connect_Id__c") or not row.get("IsDeleted"):
            return False
        body = {k: row.get(k) for k in ("Subject", "Description", "ActivityDate", "Priority", "Type", "Status",
                                         "OwnerId")}
        result = self.world.sf("upsert", f"Sales_Connect_Id__c/{row['Sales_Connect_Id__c']}", body)
        if result is None:
            return False
        restored = [r for r in self.world.sf_rows() if r.get("Sales_Connect_Id__c") == row["Sales_Connect_Id__c"]
                    and not r["IsDeleted"]]
        model.sf_id, model.deleted_by, model.restored = restored[0]["Id"], None, True
        model.writes.append(_write(step, "sf", canonical_sf({k: v for k, v in body.items() if k != "OwnerId"})))
        return True

    def _do_clock(self, step: int, seconds: float) -> bool:
        self.world.advance(seconds)
        return True

    def _do_fault(self, step: int, fault: str, task: str) -> bool:
        emu = self.world.emu
        if fault == "lock_rows":
            model = self.model.tasks.get(task)
            sf_id = self._sf_id(model) if model else None
            if not sf_id:
                return False
            emu.lock_rows([sf_id], count=None)
        elif fault == "request_limit":
            emu.set_api_limit(emu.counters()["api_usage"]["used"] + 3)
            self.limit_armed = True
        else:
            emu.add_fault(fault, count=1 if fault == "expired_session" else 2)
        self.armed.append(fault)
        self.model.faults += 1
        return True

    def _clear_faults(self) -> None:
        self.world.emu.clear_faults()
        if self.limit_armed:
            self.world.emu.set_api_limit(10_000_000)
            self.limit_armed = False
        self.armed = []

    def _do_run(self, step: int, kind: str, reps: list[int] | None = None, stop_after: str | None = None,
                kill_load: bool = False, during: list[dict[str, Any]] | None = None) -> bool:
        user_ids = tuple(self.model.reps[r].user_id for r in reps or () if r < len(self.model.reps))
        before = RunSnapshot.take(self.world, self.model)
        self.world.emu.reset_counters()
        edited_during: set[int] = set()

        def during_load() -> None:
            for nested in during or ():
                task = self._task(nested["args"])
                row = self._sc_row(task) if task and nested["kind"] == "sc_act" else None
                if getattr(self, f"_do_{nested['kind']}")(step, **nested["args"]) and row is not None:
                    edited_during.add(row.id)

        history = self.world.run(kind, user_ids=user_ids, stop_after=stop_after, kill_load=kill_load,
                                 during_load=during_load if during else None)
        clean = not (self.armed or stop_after or kill_load or during)  # nothing else spent calls meanwhile
        self._last_run_violations = check_run(self.world, self.model, before, history, kind=kind, clean=clean,
                                              edited_during=frozenset(edited_during))
        self._note_agreement(step)
        self._clear_faults()
        self.model.runs += 1
        return True

    _last_run_violations: list[Violation] = []

    def _note_agreement(self, step: int) -> None:
        """Remember, per task, the fields both sides hold equal after this run (see ``TaskModel.agreed``)."""
        links = self.world.links()
        by_sf = {lk.sf_id: lk.task_id for lk in links}
        by_task = {lk.task_id: lk.sf_id for lk in links}
        sc_rows = {t.id: t for t in self.world.sc_rows()}
        sf_rows = {r["Id"]: r for r in self.world.sf_rows()}
        for task in self.model.tasks.values():
            sf_id = task.sf_id or by_task.get(task.sc_id)
            sc, sf = sc_rows.get(by_sf.get(sf_id, task.sc_id)), sf_rows.get(sf_id)
            if sc is None or sf is None or sc.deleted_at is not None or sf["IsDeleted"]:
                continue
            have_sc, have_sf = sc_values(sc), sf_values(sf)
            task.agreed.append((step, {f: v for f, v in have_sc.items() if have_sf.get(f) == v}))


def _write(step: int, side: str, values: dict[str, Any]) -> Write:
    return Write(step, side, Model.fields_of(values))
