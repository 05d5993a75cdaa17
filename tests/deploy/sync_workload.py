"""A 1,000-rep first sync for a running ``AirflowStack``: seed it, then read both sides back.

The same workload is seeded on every stack (relative to that emulator's clock), so the
end states of two stacks can be compared. Snapshots name records by what a rep sees
(owner's position in the workload, subject, status, the record paired on the other side),
never by database ids or timestamps, which legitimately differ between two runs.

Workload (``Workload`` defaults): 1,000 Salesforce users and 1,000 Sales Connect reps
mapped one to one, all with sync switched on an hour ago; per rep two Salesforce tasks
changed in the last hours (imported); 500 Salesforce tasks last changed days before the
enable (never imported); 600 Sales Connect tasks created after the enable (pushed) and
200 created before it (never pushed).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from airflow_stack import AirflowStack
from airflow_stack.pg import database_url
from sales_connect import repository
from sales_connect.db import Store, migrate
from sales_connect.models import SyncRun, Task, TaskLink, User
from task_sync.fields import EXTERNAL_ID_FIELD

RECENT_PREFIX = "Recent SF task"
OLD_PREFIX = "Old SF task"
PUSHED_PREFIX = "SC task after enable"
PREEXISTING_PREFIX = "SC task before enable"


@dataclass(frozen=True)
class Workload:
    users: int = 1000
    recent_sf_per_user: int = 2
    old_sf: int = 500
    sc_after_enable: int = 600
    sc_before_enable: int = 200

    @property
    def recent_sf(self) -> int:
        return self.users * self.recent_sf_per_user


@dataclass(frozen=True)
class Seeded:
    """Who is who on one stack: Salesforce user id / Sales Connect user id -> position in the workload."""

    workload: Workload
    store_url: str
    owner_index: dict[str, int]
    user_index: dict[int, int]


def store_url(stack: AirflowStack) -> str:
    return database_url(stack.pg_admin_url, stack.databases["sales_connect"])


def seed(stack: AirflowStack, workload: Workload) -> Seeded:
    """Seed both sides in bulk: one control-plane call per kind on the emulator, one store transaction."""
    emulator = stack.emulator
    now = emulator.clock()
    users = [
        {"Username": f"rep{i:04d}@load.example", "FirstName": "Rep", "LastName": f"Load {i:04d}",
         "Email": f"rep{i:04d}@load.example", "TimeZoneSidKey": "Europe/Berlin"}
        for i in range(workload.users)
    ]
    owners = emulator.seed(users=users)["users"]
    # Spread over [6 h, 5 min] before now: well inside the first sync's 24-hour look-back.
    emulator.generate_tasks(workload.recent_sf, owner_ids=owners, subject_prefix=RECENT_PREFIX,
                            modstamp_from=(now - dt.timedelta(hours=6)).isoformat(),
                            modstamp_to=(now - dt.timedelta(minutes=5)).isoformat())
    emulator.generate_tasks(workload.old_sf, owner_ids=owners, subject_prefix=OLD_PREFIX,
                            modstamp_from=(now - dt.timedelta(days=4)).isoformat(),
                            modstamp_to=(now - dt.timedelta(days=3)).isoformat())

    url = store_url(stack)
    migrate(url)
    store = Store(url)
    enabled_at = now - dt.timedelta(hours=1)
    try:
        with store.session(changed_by="user") as session:
            ids = []
            for i, owner in enumerate(owners):
                user = repository.create_user(session, email=users[i]["Email"], name=f"Rep {i:04d}",
                                              sf_owner_id=owner, time_zone="Europe/Berlin")
                repository.set_sync_enabled(session, user.id, True, now=enabled_at)
                ids.append(user.id)
            due = (now + dt.timedelta(days=2)).date()
            for n in range(workload.sc_before_enable):
                repository.create_task(session, ids[n * workload.users // workload.sc_before_enable],
                                       subject=f"{PREEXISTING_PREFIX} {n + 1}", due_date=due,
                                       now=enabled_at - dt.timedelta(hours=1))
            for n in range(workload.sc_after_enable):
                repository.create_task(session, ids[n % workload.users], subject=f"{PUSHED_PREFIX} {n + 1}",
                                       due_date=due, priority="high", now=now - dt.timedelta(minutes=30))
    finally:
        store.dispose()
    return Seeded(workload, url, {o: i for i, o in enumerate(owners)}, {u: i for i, u in enumerate(ids)})


@dataclass(frozen=True)
class Snapshot:
    """Both sides after a run, in comparable form, plus what the run recorded about itself."""

    # (rep, subject, status, priority, subject of the paired Salesforce task or None)
    sales_connect: list[tuple[Any, ...]]
    # (rep, Subject, Status, Priority, subject of the paired Sales Connect task or None)
    salesforce: list[tuple[Any, ...]]
    run_status: str
    api_calls: int
    counts: dict[str, Any]
    problems: list[str]


def snapshot(stack: AirflowStack, seeded: Seeded, dag_run_id: str) -> Snapshot:
    """Read both sides back and list every way they break the sync's contract for this workload."""
    sf_rows = [r for r in stack.emulator.tasks() if not r["IsDeleted"]]
    store = Store(seeded.store_url)
    try:
        with store.session() as session:
            tasks = list(session.scalars(select(Task).where(Task.deleted_at.is_(None))))
            links = list(session.scalars(select(TaskLink)))
            user_ids = dict(session.execute(select(User.id, User.sf_owner_id)).tuples().all())
            run = session.scalars(select(SyncRun).where(SyncRun.dag_run_id == dag_run_id)).one()
            run_status, api_calls, counts = run.status, run.api_calls, dict(run.counts or {})
    finally:
        store.dispose()

    sf_by_id = {r["Id"]: r for r in sf_rows}
    sc_by_id = {t.id: t for t in tasks}
    link_by_task = {link.task_id: link for link in links}
    sales_connect = sorted(
        (seeded.user_index[t.user_id], t.subject, t.status, t.priority,
         sf_by_id[link_by_task[t.id].sf_id]["Subject"] if t.id in link_by_task else None)
        for t in tasks
    )
    salesforce = sorted(
        (seeded.owner_index.get(r["OwnerId"]), r["Subject"], r["Status"], r["Priority"],
         sc_by_id[int(str(r[EXTERNAL_ID_FIELD]).rsplit(":", 1)[-1])].subject if r.get(EXTERNAL_ID_FIELD) else None)
        for r in sf_rows
    )
    problems = _problems(seeded, tasks, links, sf_rows, user_ids, sf_by_id)
    return Snapshot(sales_connect, salesforce, run_status, api_calls, counts, problems)


def _duplicates(values: list[Any]) -> list[Any]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _problems(
    seeded: Seeded,
    tasks: list[Task],
    links: list[TaskLink],
    sf_rows: list[dict[str, Any]],
    owners: dict[int, str | None],
    sf_by_id: dict[str, dict[str, Any]],
) -> list[str]:
    """The contract for this workload: what must be on each side, once, paired with its twin."""
    w = seeded.workload
    problems: list[str] = []
    subjects = [t.subject for t in tasks]
    pushed = [r for r in sf_rows if r.get(EXTERNAL_ID_FIELD)]
    checks = {
        "Sales Connect subjects seen twice": _duplicates(subjects),
        "Salesforce subjects seen twice": _duplicates([r["Subject"] for r in sf_rows]),
        f"{EXTERNAL_ID_FIELD} values seen twice": _duplicates([r[EXTERNAL_ID_FIELD] for r in pushed]),
        "Salesforce ids linked twice": _duplicates([link.sf_id for link in links]),
    }
    for what, dupes in checks.items():
        if dupes:
            problems.append(f"{what}: {dupes[:5]} ({len(dupes)} in all)")
    expected_sc = {
        RECENT_PREFIX: w.recent_sf, OLD_PREFIX: 0, PUSHED_PREFIX: w.sc_after_enable,
        PREEXISTING_PREFIX: w.sc_before_enable,
    }
    for prefix, expected in expected_sc.items():
        got = sum(s.startswith(prefix + " ") for s in subjects)
        if got != expected:
            problems.append(f"Sales Connect holds {got} '{prefix}' task(s), expected {expected}")
    expected_sf = {RECENT_PREFIX: w.recent_sf, OLD_PREFIX: w.old_sf, PUSHED_PREFIX: w.sc_after_enable,
                   PREEXISTING_PREFIX: 0}
    for prefix, expected in expected_sf.items():
        got = sum(r["Subject"].startswith(prefix + " ") for r in sf_rows)
        if got != expected:
            problems.append(f"Salesforce holds {got} '{prefix}' task(s), expected {expected}")
    if len(links) != w.recent_sf + w.sc_after_enable:
        problems.append(f"{len(links)} link(s), expected {w.recent_sf + w.sc_after_enable}")
    by_task = {t.id: t for t in tasks}
    for link in links:
        task, twin = by_task.get(link.task_id), sf_by_id.get(link.sf_id)
        if task is None or twin is None:
            problems.append(f"link {link.task_id} <-> {link.sf_id} points at a missing task")
        elif twin["Subject"] != task.subject or twin["OwnerId"] != owners[task.user_id]:
            problems.append(f"task {task.id} ({task.subject!r}, rep {task.user_id}) is paired with "
                            f"{twin['Id']} ({twin['Subject']!r}, owner {twin['OwnerId']})")
        elif str(twin["ActivityDate"]) != str(task.due_date):
            problems.append(f"task {task.id} is due {task.due_date}, its Salesforce twin {twin['ActivityDate']}")
    return problems[:40]
