"""The demo's story: three reps, a history on both sides, then a change of every kind.

Each seeded item says which rule it shows, so the report can be read
against it: Salesforce tasks from 2 days, 20 hours and 1 hour before sync
is switched on (only the last two are imported), Sales Connect tasks that
existed before (never pushed), and after the first sync a create, edit,
completion and deletion on each side plus one task edited on both sides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from simple_salesforce import Salesforce
from sqlalchemy import select

from sales_connect import repository as repo
from sales_connect.db import Store
from sales_connect.models import Task, TaskLink
from sf_emulator.process import EmulatorProcess

REPS = (
    ("ava.reyes@salesconnect.example", "America/New_York"),
    ("ben.okafor@salesconnect.example", "Europe/London"),
    ("chloe.martin@salesconnect.example", "Asia/Tokyo"),
)


@dataclass
class DemoRep:
    user_id: int
    name: str
    owner_id: str
    time_zone: str
    sf_ids: dict[str, str] = field(default_factory=dict)  # story label -> Salesforce id
    sc_ids: dict[str, int] = field(default_factory=dict)  # story label -> Sales Connect task id


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _local_day(time_zone: str, now: dt.datetime, days: int) -> str:
    from zoneinfo import ZoneInfo

    return (now.astimezone(ZoneInfo(time_zone)).date() + dt.timedelta(days=days)).isoformat()


def seed_history(emu: EmulatorProcess, store: Store, sf: Salesforce, now: dt.datetime) -> list[DemoRep]:
    """Both sides as they were before anyone switched sync on."""
    owners = {u["Username"]: u["Id"] for u in sf.query("SELECT Id, Username FROM User")["records"]}
    reps: list[DemoRep] = []
    for username, time_zone in REPS:
        name = username.split("@")[0].replace(".", " ").title()
        with store.session() as s:
            user = repo.create_user(s, email=username, name=name, sf_owner_id=owners[username],
                                    time_zone=time_zone, login=username.split(".")[0])
            s.flush()
            rep = DemoRep(user.id, name, owners[username], time_zone)
            for label, subject, days_ago in (
                ("pre-existing", f"Prep QBR deck for {name.split()[0]}'s biggest account", 3),
                ("pre-existing 2", "Update LinkedIn notes", 1),
            ):
                task = repo.create_task(s, user.id, subject=subject, due_date=dt.date.fromisoformat(
                    _local_day(time_zone, now, 1)), now=now - dt.timedelta(days=days_ago))
                s.flush()
                rep.sc_ids[label] = task.id
        history = (
            ("2 days old", "Call back about renewal (2 days old)", dt.timedelta(days=2), 0, "Not Started"),
            ("20 hours old", "Send pricing follow-up (20 h old)", dt.timedelta(hours=20), 1, "Not Started"),
            ("1 hour old", "Demo prep with SE (1 h old)", dt.timedelta(hours=1), 0, "In Progress"),
            ("next week", "Quarterly check-in (1 h old, due next week)", dt.timedelta(hours=1), 7, "Not Started"),
        )
        seeded = emu.seed(tasks=[
            {"Subject": subject, "OwnerId": rep.owner_id, "Status": status, "Priority": "Normal", "Type": "Call",
             "ActivityDate": _local_day(time_zone, now, due_in), "CreatedDate": _stamp(now - age),
             "LastModifiedDate": _stamp(now - age), "SystemModstamp": _stamp(now - age)}
            for _label, subject, age, due_in, status in history
        ])["tasks"]
        rep.sf_ids.update({label: sf_id for (label, *_rest), sf_id in zip(history, seeded, strict=True)})
        reps.append(rep)
    return reps


def switch_sync_on(store: Store, reps: list[DemoRep], now: dt.datetime) -> None:
    with store.session() as s:
        for rep in reps:
            repo.set_sync_enabled(s, rep.user_id, True, now)


def change_everything(store: Store, sf: Salesforce, reps: list[DemoRep], now: dt.datetime) -> dict[str, str]:
    """A change of every kind on both sides for the first rep, and a conflict; returns what was done."""
    rep = reps[0]
    imported = _imported_by_label(store, rep)
    done: dict[str, str] = {}
    with store.session() as s:
        new = repo.create_task(s, rep.user_id, subject="Book travel for onsite (made in Sales Connect)",
                               due_date=dt.date.fromisoformat(_local_day(rep.time_zone, now, 0)), priority="high")
        s.flush()
        rep.sc_ids["sc new"] = new.id
        edit = s.get(Task, imported["20 hours old"])
        repo.update_task(s, rep.user_id, edit.id, expected_version=edit.version,
                         subject="Send pricing follow-up (edited in Sales Connect)")
    with store.session() as s:
        done_task = s.get(Task, imported["1 hour old"])
        repo.complete_task(s, rep.user_id, done_task.id, expected_version=done_task.version)
    done["Sales Connect"] = "created 1, edited 1, completed 1"

    other = reps[1]
    other_imported = _imported_by_label(store, other)
    with store.session() as s:
        gone = s.get(Task, other_imported["20 hours old"])
        repo.delete_task(s, other.user_id, gone.id, expected_version=gone.version)
    done["Sales Connect "] = f"deleted 1 ({other.name})"

    sf.Task.create({"Subject": "Intro call with new champion (made in Salesforce)", "OwnerId": rep.owner_id,
                    "ActivityDate": _local_day(rep.time_zone, now, 1), "Priority": "High"})
    sf.Task.update(other.sf_ids["1 hour old"], {"Subject": "Demo prep with SE (edited in Salesforce)",
                                                  "Priority": "Low"})
    sf.Task.update(other.sf_ids["next week"], {"Status": "Completed"})
    sf.Task.delete(reps[2].sf_ids["1 hour old"])
    done["Salesforce"] = "created 1, edited 1, completed 1, deleted 1"

    third = reps[2]
    third_imported = _imported_by_label(store, third)
    with store.session() as s:
        both = s.get(Task, third_imported["20 hours old"])
        repo.update_task(s, third.user_id, both.id, expected_version=both.version,
                         subject="Send pricing follow-up (Sales Connect's edit)")
    sf.Task.update(third.sf_ids["20 hours old"], {"Subject": "Send pricing follow-up (Salesforce's later edit)"})
    done["Both sides"] = f"one task edited on both sides ({third.name}): the later edit should win"
    return done


def _imported_by_label(store: Store, rep: DemoRep) -> dict[str, int]:
    by_sf = {sf_id: label for label, sf_id in rep.sf_ids.items()}
    with store.session() as s:
        links = s.scalars(select(TaskLink).where(TaskLink.user_id == rep.user_id)).all()
        return {by_sf[link.sf_id]: link.task_id for link in links if link.sf_id in by_sf}


def describe(value: Any) -> str:
    return "-" if value in (None, "") else str(value)
