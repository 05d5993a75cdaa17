"""The demo's closing report: each run's totals, then per rep what the sync did and their Command Center."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from simple_salesforce import Salesforce
from sqlalchemy import select

from sales_connect import repository as repo
from sales_connect.db import Store
from sales_connect.models import SyncConflict, SyncRun, Task, TaskLink, User
from sales_connect_demo.story import DemoRep


def _runs(store: Store) -> list[SyncRun]:
    with store.session() as s:
        return list(s.scalars(select(SyncRun).order_by(SyncRun.id)))


def _kinds(counts: dict[str, Any], direction: str) -> str:
    values = counts.get(direction, {})
    return ", ".join(f"{kind} {values.get(kind, 0)}" for kind in ("create", "update", "complete", "delete"))


def print_report(store: Store, sf: Salesforce, reps: list[DemoRep], now: dt.datetime) -> None:
    print("\n=== Sync runs ===")
    for run in _runs(store):
        c = run.counts or {}
        print(f"run {run.id} [{run.status}] API calls {run.api_calls}")
        print(f"   Salesforce -> Sales Connect: {_kinds(c, 'sf_to_sc')}")
        print(f"   Sales Connect -> Salesforce: {_kinds(c, 'sc_to_sf')}")
        print(f"   skipped as pre-existing {c.get('skipped_preexisting', 0)}, conflicts {c.get('conflicts', 0)}, "
              f"errors {c.get('errors', 0)}, echoes ignored {c.get('echoes_skipped', 0)}")
    for rep in reps:
        _print_rep(store, sf, rep, now)


def _print_rep(store: Store, sf: Salesforce, rep: DemoRep, now: dt.datetime) -> None:
    with store.session() as s:
        user = s.get(User, rep.user_id)
        tasks = list(s.scalars(select(Task).where(Task.user_id == rep.user_id)))
        links = {link.task_id: link for link in s.scalars(select(TaskLink).where(TaskLink.user_id == rep.user_id))}
        conflicts = list(s.scalars(select(SyncConflict).where(SyncConflict.user_id == rep.user_id)))
        center = repo.command_center(s, rep.user_id, now)
        enabled_at = user.first_enabled_at or user.enabled_at  # pre-existing: before the first enable
    imported = [t for t in tasks if t.id in links and links[t.id].origin == "salesforce"]
    pushed = [t for t in tasks if t.id in links and links[t.id].origin == "sales_connect"]
    preexisting = [t for t in tasks if t.id not in links and t.deleted_at is None and enabled_at
                   and t.created_at < enabled_at]
    completed = [t for t in tasks if t.status == "completed" and t.deleted_at is None]
    deleted = [t for t in tasks if t.deleted_at is not None]
    live_sf = sf.query(f"SELECT COUNT() FROM Task WHERE OwnerId = '{rep.owner_id}'")["totalSize"]  # noqa: S608

    local = now.astimezone(ZoneInfo(rep.time_zone))
    print(f"\n=== {rep.name} ({rep.time_zone}, local time {local:%a %d %b %H:%M}) ===")
    print(f"  imported from Salesforce:   {len(imported):2d}  {_subjects(imported)}")
    print(f"  pushed to Salesforce:       {len(pushed):2d}  {_subjects(pushed)}")
    print(f"  skipped as pre-existing:    {len(preexisting):2d}  {_subjects(preexisting)}")
    print(f"  completed:                  {len(completed):2d}  {_subjects(completed)}")
    print(f"  deleted:                    {len(deleted):2d}  {_subjects(deleted)}")
    print(f"  conflicts:                  {len(conflicts):2d}")
    for conflict in conflicts:
        print(f"     {conflict.winner} won: {conflict.rule.split(':')[0]}; "
              f"Sales Connect had {conflict.sc_version.get('subject')!r}, "
              f"Salesforce had {conflict.sf_version.get('subject')!r}")
    print(f"  tasks in Salesforce:        {live_sf:2d}  (not deleted; open and completed)")
    print(f"  Command Center (today {local.date():%d %b} and tomorrow):")
    if not center:
        print("     (nothing due)")
    for task in center:
        when = "today" if task.due_date == local.date() else "tomorrow"
        state = "linked" if task.id in links else "not synced (pre-existing)"
        print(f"     [{when:8s}] {task.subject}  ({task.priority}, {state})")


def _subjects(tasks: list[Task], limit: int = 3) -> str:
    names = [t.subject for t in tasks[:limit]]
    more = f" +{len(tasks) - limit} more" if len(tasks) > limit else ""
    return ("; ".join(names) + more) if names else ""
