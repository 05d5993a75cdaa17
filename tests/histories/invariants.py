"""The invariants: what must hold after every run, and after the final quiet runs.

Each check returns ``Violation``s naming the rule and the records, so a shrunk history says what
broke. Per-run checks compare a snapshot taken just before the run with the state after it; the
convergence check compares both sides with each other and with the model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from model import Model, TaskModel, canonical_sc, canonical_sf
from world import World

from sales_connect.models import CHANGED_BY_SYNC
from task_sync.salesforce import CLIENT_NAME

COMPARED = ("subject", "description", "due_date", "status", "priority", "task_type")
SF_API = {"subject": "Subject", "description": "Description", "due_date": "ActivityDate", "status": "Status",
          "priority": "Priority", "task_type": "Type"}
# SPEC §9: a run moving fewer than one page/collection of changes costs a constant handful of calls.
BASE_CALLS, CALLS_PER_SHARD = 6, 10


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def sf_values(row: dict[str, Any]) -> dict[str, Any]:
    return canonical_sf({api: row.get(api) for api in SF_API.values()})


def sc_values(task: Any) -> dict[str, Any]:
    return canonical_sc({name: getattr(task, name) for name in COMPARED})


@dataclass
class RunSnapshot:
    """Both sides just before a run: enough to say what the run itself changed."""

    sc: dict[int, tuple]
    sf: dict[str, dict[str, Any]]
    links: dict[str, int]
    off_users: set[int]
    off_owners: set[str]

    @classmethod
    def take(cls, world: World, model: Model) -> RunSnapshot:
        off = [r for r in model.reps if not r.enabled]
        return cls(
            sc={t.id: (t.version, t.deleted_at, t.user_id) for t in world.sc_rows()},
            sf={r["Id"]: r for r in world.sf_rows()},
            links={lk.sf_id: lk.task_id for lk in world.links()},
            off_users={r.user_id for r in off}, off_owners={r.owner_id for r in off},
        )


def check_run(world: World, model: Model, before: RunSnapshot, history: Any, *, kind: str,
              clean: bool, edited_during: frozenset[int] = frozenset()) -> list[Violation]:
    """After any run: duplicates, pre-existing pushes, writes while off, writes onto others' records, cost.

    ``edited_during``: Sales Connect rows a rep changed while the run loaded (their change, not the run's)."""
    sc_rows, sf_rows = world.sc_rows(), world.sf_rows()
    out = _duplicates(sc_rows, sf_rows) + _preexisting_pushed(model, sf_rows)
    owner_of_user = {r.user_id: r.owner_id for r in model.reps}
    sync_written = [r for r in sf_rows if r.get("LastWriteClient") == CLIENT_NAME
                    and before.sf.get(r["Id"], {}).get("SystemModstamp") != r["SystemModstamp"]]
    for row in sc_rows:
        was = before.sc.get(row.id)
        if (row.user_id in before.off_users and row.id not in edited_during and was is not None
                and was[:2] != (row.version, row.deleted_at)):
            out.append(Violation("changed_while_off", f"SC task {row.id} of user {row.user_id} changed by a run"))
    for row in sync_written:
        prior = before.sf.get(row["Id"])
        if prior and prior["OwnerId"] in before.off_owners:
            out.append(Violation("changed_while_off", f"SF task {row['Id']} of an owner with sync off written"))
        sc_task = before.links.get(row["Id"])
        owner_then = before.sc.get(sc_task, (None, None, None))[2] if sc_task else None
        if prior and owner_then is not None and owner_of_user.get(owner_then) != prior["OwnerId"]:
            out.append(Violation("wrote_onto_another_owners_record",
                                 f"SF task {row['Id']} (owner {prior['OwnerId']}) written for SC task {sc_task} "
                                 f"of user {owner_then}"))
    if history is not None and clean and history.status in ("success", "partial"):
        out += _cost(world, history, kind) + _counts(before, sc_rows, sf_rows, history, kind)
    return out


def _counts(before: RunSnapshot, sc_rows: list[Any], sf_rows: list[dict[str, Any]], history: Any,
            kind: str) -> list[Violation]:
    """The history's counts are what the run moved: Salesforce records the sync wrote, Sales Connect
    rows the sync changed (a dry run moves nothing and counts what it would have moved)."""
    if kind == "dry_run":
        return []
    moved = {
        "sc_to_sf": sum(r.get("LastWriteClient") == CLIENT_NAME
                        and before.sf.get(r["Id"], {}).get("SystemModstamp") != r["SystemModstamp"] for r in sf_rows),
        "sf_to_sc": sum(t.changed_by == CHANGED_BY_SYNC and before.sc.get(t.id, (None, None))[:2]
                        != (t.version, t.deleted_at) for t in sc_rows),
    }
    out = []
    for direction, n in moved.items():
        said = sum(history.counts[direction].values())
        if said != n:
            out.append(Violation("history_counts", f"{kind} run {history.dag_run_id} moved {n} {direction}, "
                                                   f"history says {said} {history.counts[direction]}"))
    return out


def _cost(world: World, history: Any, kind: str) -> list[Violation]:
    counters = world.emu.counters()
    used = counters["total"]
    out = []
    if used != history.api_calls:
        out.append(Violation("history_api_calls", f"{kind} run {history.dag_run_id} spent {used} calls "
                                                  f"{counters['by_resource']}, history says {history.api_calls}"))
    if used > BASE_CALLS + CALLS_PER_SHARD * world.shards:
        out.append(Violation("api_budget", f"{kind} run {history.dag_run_id} spent {used} calls"))
    return out


def _duplicates(sc_rows: list[Any], sf_rows: list[dict[str, Any]]) -> list[Violation]:
    live_sf = Counter(r["Sales_Connect_Id__c"] for r in sf_rows if not r["IsDeleted"] and r["Sales_Connect_Id__c"])
    out = [Violation("duplicate_in_salesforce", f"{n} live tasks carry Sales_Connect_Id__c {key}")
           for key, n in live_sf.items() if n > 1]
    live_sc = Counter((t.user_id, t.subject) for t in sc_rows if t.deleted_at is None)
    out += [Violation("duplicate_in_sales_connect", f"user {user} has {n} live tasks {subject!r}")
            for (user, subject), n in live_sc.items() if n > 1]
    return out


def _preexisting_pushed(model: Model, sf_rows: list[dict[str, Any]]) -> list[Violation]:
    pre = {str(t.sc_id) for t in model.tasks.values() if t.preexisting and t.sc_id is not None}
    return [Violation("preexisting_pushed", f"pre-existing SC task {r['Sales_Connect_Id__c']} created in SF {r['Id']}")
            for r in sf_rows if str(r.get("Sales_Connect_Id__c") or "").rsplit(":", 1)[-1] in pre]


def check_converged(world: World, model: Model) -> list[Violation]:
    """After the quiet runs: every task the model says is synced is equal on both sides, and the rest gone."""
    sc_by_id = {t.id: t for t in world.sc_rows()}
    sf_by_id = {r["Id"]: r for r in world.sf_rows()}
    link_by_sf = {lk.sf_id: lk for lk in world.links()}
    link_by_task = {lk.task_id: lk for lk in world.links()}
    named = {str(e.task_id) for e in world.errors() if e.resolved_at is None} | {
        e.sf_id for e in world.errors() if e.resolved_at is None}
    conflicted = {str(c.task_id) for c in world.conflicts()} | {c.sf_id for c in world.conflicts()}
    owner_rep = {r.owner_id: r for r in model.reps}
    off_users = {r.user_id for r in model.reps if not r.enabled}
    out: list[Violation] = []
    for sc in sc_by_id.values():  # isolation: a linked live row belongs to the Salesforce owner's rep
        link = link_by_task.get(sc.id)
        if sc.user_id in off_users:
            continue  # sync off: the row stays as it was (no traffic), even if Salesforce moved the task
        sf = sf_by_id.get(link.sf_id) if link else None
        if sc.deleted_at is None and sf and not sf["IsDeleted"]:
            rep = owner_rep.get(sf["OwnerId"])
            if rep is None or rep.user_id != sc.user_id:
                out.append(Violation("task_in_wrong_list", f"SC task {sc.id} of user {sc.user_id} is linked to "
                                                           f"{sf['Id']} owned by {sf['OwnerId']}"))
    for task in model.tasks.values():
        out += _check_task(model, task, sc_by_id, sf_by_id, link_by_sf, link_by_task, named, conflicted)
    return out


def _check_task(model: Model, task: TaskModel, sc_by_id: dict, sf_by_id: dict, link_by_sf: dict,
                link_by_task: dict, named: set, conflicted: set) -> list[Violation]:
    sf_id = task.sf_id or (link_by_task[task.sc_id].sf_id if task.sc_id in link_by_task else None)
    sf = sf_by_id.get(sf_id) if sf_id else None
    link = link_by_sf.get(sf_id) if sf_id else None
    sc = sc_by_id.get(link.task_id) if link else sc_by_id.get(task.sc_id)
    excused = bool({str(task.sc_id), str(link.task_id) if link else None, sf_id} & named)
    name = f"{task.handle} (SC {sc.id if sc else task.sc_id}, SF {sf_id})"
    rep = model.reps[task.rep] if task.rep is not None else None
    if rep is None or not rep.enabled or task.preexisting or excused:
        return []
    if task.deleted_by:
        out = []
        if sc is not None and sc.deleted_at is None and sc.user_id == rep.user_id:
            out.append(Violation("deleted_task_still_in_sc", f"{name} deleted in {task.deleted_by} is live in SC"))
        if sf is not None and not sf["IsDeleted"] and sf["OwnerId"] == rep.owner_id and not task.foreign_actions:
            out.append(Violation("deleted_task_still_in_sf", f"{name} deleted in {task.deleted_by} is live in SF"))
        return out
    if task.sf_owner == "unsynced":
        if sc is not None and sc.deleted_at is None and sc.user_id == rep.user_id:
            return [Violation("unsynced_owner_task_still_listed", f"{name} handed to an unsynced user is in SC")]
        return []
    if sf is None or sf["IsDeleted"]:
        return [Violation("not_in_salesforce", f"{name} is not live in Salesforce")]
    if sc is None or sc.deleted_at is not None or sc.user_id != rep.user_id:
        rule = "restored_task_hidden" if task.restored else "not_in_sales_connect"
        return [Violation(rule, f"{name} live in SF for rep {rep.index} but not in their SC list")]
    have_sc, have_sf = sc_values(sc), sf_values(sf)
    out = [Violation("fields_differ", f"{name} {f}: SC {have_sc[f]!r} vs SF {have_sf[f]!r}")
           for f in COMPARED if have_sc[f] != have_sf[f]]
    if out or task.foreign_actions:
        return out
    either = bool({str(task.sc_id), str(sc.id), sf_id} & conflicted)
    for f in COMPARED:
        allowed = ({task.last_values("sc").get(f), task.last_values("sf").get(f)} | task.agreed_before_last_write(f)
                   if either else {task.last_value(f)})
        if f in {k for w in task.writes for k in w.values} and have_sf[f] not in allowed:
            out.append(Violation("lost_update", f"{name} {f} is {have_sf[f]!r}, expected {sorted(map(str, allowed))}"))
    return out
