"""Property-style loops (no hypothesis): random edits on both sides, then runs of the diff applied the
way the loader applies a plan. Whatever happens, the two sides end up agreeing, a quiet run writes
nothing (no ping-pong), replayed windows change nothing, and nobody's task reaches another list."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pandas as pd
from sync_world import ENABLED_AT, NOW, owner_id, sf_time

from task_sync import fields
from task_sync.diff import SyncInput, SyncPlan, build_plan

OVERLAP = dt.timedelta(minutes=5)
USERS = (1, 2)


class Simulation:
    """Two in-memory stores, the link table, and a loader that follows the plan's column contract."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = NOW
        self.sf: dict[str, dict[str, Any]] = {}
        self.sc: dict[int, dict[str, Any]] = {}
        self.links: dict[int, dict[str, Any]] = {}
        self.seq = 0
        self.next_sf = 1
        self.next_task = 1
        self.sf_watermark = ENABLED_AT - dt.timedelta(hours=24)
        self.sc_watermark = 0

    # ------------------------------------------------------------------ clocks and stores
    def tick(self) -> dt.datetime:
        self.clock += dt.timedelta(seconds=self.rng.choice((1, 7, 30)))
        return self.clock

    def new_sf_id(self) -> str:
        self.next_sf += 1
        return f"00T{self.next_sf:015d}"

    def sf_write(self, sf_id: str, values: dict[str, Any]) -> None:
        now = self.tick()
        record = self.sf[sf_id]
        record.update(values)
        record.update(LastModifiedDate=sf_time(now), SystemModstamp=sf_time(now),
                      IsClosed=record["Status"] == "Completed",
                      CompletedDateTime=sf_time(now) if record["Status"] == "Completed" else None)

    def sc_write(self, task_id: int, values: dict[str, Any], by: str) -> int:
        self.seq += 1
        self.sc[task_id].update(values, updated_at=self.tick(), change_seq=self.seq, changed_by=by)
        return self.seq

    # ------------------------------------------------------------------ user activity
    def sf_create(self, user: int) -> None:
        sf_id = self.new_sf_id()
        now = self.tick()
        self.sf[sf_id] = {"Id": sf_id, "OwnerId": owner_id(user), "Subject": f"sf {sf_id[-4:]}", "Description": None,
                          "ActivityDate": "2026-11-27", "Status": "Not Started", "Priority": "Normal", "Type": None,
                          "ReminderDateTime": None, "IsReminderSet": False, "IsDeleted": False,
                          "Sales_Connect_Id__c": None, "CreatedDate": sf_time(now)}
        self.sf_write(sf_id, {})

    def sc_create(self, user: int) -> None:
        task_id = self.next_task
        self.next_task += 1
        self.sc[task_id] = {"task_id": task_id, "user_id": user, "subject": f"sc {task_id}", "description": None,
                            "due_date": dt.date(2026, 11, 27), "priority": "normal", "status": "open",
                            "task_type": "todo", "reminder_at": None, "completed_at": None, "created_at": self.tick(),
                            "deleted_at": None, "version": 1}
        self.sc_write(task_id, {}, "user")

    def sf_edit(self, sf_id: str) -> None:
        choice = self.rng.choice(("Subject", "Status", "Priority", "Type", "delete"))
        if choice == "delete":
            self.sf_write(sf_id, {"IsDeleted": True})
            return
        options = {"Subject": [f"sf edit {self.rng.randrange(5)}"], "Status": list(fields.SF_STATUSES),
                   "Priority": list(fields.SF_PRIORITIES), "Type": [*fields.SF_TYPES, None]}[choice]
        self.sf_write(sf_id, {choice: self.rng.choice(options)})

    def sc_edit(self, task_id: int) -> None:
        choice = self.rng.choice(("subject", "status", "priority", "task_type", "delete"))
        if choice == "delete":
            self.sc_write(task_id, {"deleted_at": self.clock}, "user")
            return
        options = {"subject": [f"sc edit {self.rng.randrange(5)}"], "status": list(fields.SC_STATUSES),
                   "priority": list(fields.SC_PRIORITIES), "task_type": [*fields.SC_TYPES, None]}[choice]
        value = self.rng.choice(options)
        extra = {"completed_at": self.clock if value == "completed" else None} if choice == "status" else {}
        self.sc_write(task_id, {choice: value, **extra}, "user")

    def activity(self, steps: int) -> None:
        for _ in range(steps):
            action = self.rng.random()
            live_sf = [k for k, r in self.sf.items() if not r["IsDeleted"]]
            live_sc = [k for k, r in self.sc.items() if r["deleted_at"] is None]
            if action < 0.2 or not (live_sf and live_sc):
                self.sf_create(self.rng.choice(USERS))
                self.sc_create(self.rng.choice(USERS))
            elif action < 0.6:
                self.sf_edit(self.rng.choice(live_sf))
            else:
                self.sc_edit(self.rng.choice(live_sc))

    # ------------------------------------------------------------------ one sync run
    def run(self) -> SyncPlan:
        started = self.clock
        sf_changes = [dict(r) for r in self.sf.values()
                      if dt.datetime.fromisoformat(r["SystemModstamp"]) >= self.sf_watermark - OVERLAP]
        sc_changes = [dict(r) for r in self.sc.values() if r["change_seq"] > self.sc_watermark]
        sc_high = self.seq
        users = [{"user_id": u, "sf_owner_id": owner_id(u), "sync_enabled": True, "enabled_at": ENABLED_AT}
                 for u in USERS]
        plan = build_plan(SyncInput(pd.DataFrame(sf_changes), pd.DataFrame(sc_changes),
                                    pd.DataFrame(list(self.links.values())), pd.DataFrame(users),
                                    external_id_namespace="sc-convergence"))
        assert plan.quarantined.empty, plan.quarantined.to_dict("records")
        self.apply(plan)
        self.sf_watermark, self.sc_watermark = started, sc_high
        return plan

    def apply(self, plan: SyncPlan) -> None:
        for row in plan.sf_to_sc.deletions.to_dict("records"):
            self.sc_write(row["task_id"], {"deleted_at": self.clock}, "sync")
            self.links.pop(row["task_id"], None)
        for row in plan.sc_to_sf.deletions.to_dict("records"):
            self.sf_write(row["sf_id"], {"IsDeleted": True})
            self.links.pop(row["task_id"], None)
        for row in plan.sf_to_sc.creates.to_dict("records"):
            task_id = self.next_task
            self.next_task += 1
            self.sc[task_id] = {"task_id": task_id, "user_id": row["user_id"], "description": None,
                                "created_at": self.clock, "deleted_at": None, "version": 1, "completed_at": None}
            seq = self.sc_write(task_id, row["sc_fields"], "sync")
            self.links[task_id] = {"task_id": task_id, "user_id": row["user_id"], "sf_id": row["sf_id"],
                                   "origin": "salesforce", "sf_modstamp": row["sf_modstamp"], "sc_seq": seq,
                                   **{k: row[k] for k in ("sf_values", "sf_hash", "sc_values", "sc_hash")}}
        for row in plan.sc_to_sf.creates.to_dict("records"):
            sf_id = self.new_sf_id()
            self.sf[sf_id] = {"Id": sf_id, "CreatedDate": sf_time(self.clock), "IsDeleted": False, **row["sf_fields"]}
            self.sf_write(sf_id, {})
            self.links[row["task_id"]] = {"task_id": row["task_id"], "user_id": row["user_id"], "sf_id": sf_id,
                                          "origin": "sales_connect", "sf_modstamp": None, "sc_seq": row["sc_seq"],
                                          **{k: row[k] for k in ("sf_values", "sf_hash", "sc_values", "sc_hash")}}
        for frame in (plan.sf_to_sc.updates, plan.sf_to_sc.completions):
            for row in frame.to_dict("records"):
                assert self.sc[row["task_id"]]["change_seq"] == row["expected_sc_seq"]
                seq = self.sc_write(row["task_id"], row["sc_fields"], "sync")
                self.links[row["task_id"]].update(sc_seq=seq, sf_modstamp=row["sf_modstamp"], **{
                    k: row[k] for k in ("sf_values", "sf_hash", "sc_values", "sc_hash")})
        for frame in (plan.sc_to_sf.updates, plan.sc_to_sf.completions):
            for row in frame.to_dict("records"):
                self.sf_write(row["sf_id"], row["sf_fields"])
                self.links[row["task_id"]].update(sc_seq=row["sc_seq"], **{
                    k: row[k] for k in ("sf_values", "sf_hash", "sc_values", "sc_hash")})
        for row in plan.link_refreshes.to_dict("records"):
            if row["task_id"] in self.links:
                self.links[row["task_id"]].update({k: val for k, val in row.items()
                                                   if val is not None and k not in ("task_id", "sf_id", "reason")})

    # ------------------------------------------------------------------ what must hold
    def assert_agreed(self) -> None:
        by_sf = {link["sf_id"]: link for link in self.links.values()}
        for sf_id, record in self.sf.items():
            if record["IsDeleted"]:
                assert sf_id not in by_sf or self.sc[by_sf[sf_id]["task_id"]]["deleted_at"] is not None
                continue
            link = by_sf.get(sf_id)
            assert link is not None, f"{sf_id} never reached Sales Connect"
            task = self.sc[link["task_id"]]
            assert task["deleted_at"] is None
            assert owner_id(task["user_id"]) == record["OwnerId"], "a task reached another user's list"
            assert task["subject"] == record["Subject"]
            assert fields.SF_TO_SC_PRIORITY[record["Priority"]] == task["priority"]
            assert (task["status"] == "completed") == (record["Status"] == "Completed")
            assert (task["completed_at"] is not None) == (task["status"] == "completed")
            sc_type_as_sf = fields.SC_TO_SF_TYPE.get(task["task_type"]) if task["task_type"] else None
            assert sc_type_as_sf == record["Type"]
        for task in self.sc.values():
            if task["deleted_at"] is None and task["created_at"] > ENABLED_AT:
                assert task["task_id"] in self.links, f"task {task['task_id']} never reached Salesforce"


def writes(plan: SyncPlan) -> int:
    return sum(sum(d.counts().values()) for d in (plan.sf_to_sc, plan.sc_to_sf))


def test_random_edit_sequences_converge_without_ping_pong() -> None:
    for seed in range(4):
        sim = Simulation(random.Random(seed))
        for _ in range(6):
            sim.activity(steps=sim.rng.randrange(3, 15))
            sim.run()
        sim.run()  # reads back the previous run's own writes: all echoes
        quiet = sim.run()
        assert writes(quiet) == 0, (seed, quiet.counts())
        sim.assert_agreed()


def test_replaying_every_window_from_the_start_changes_nothing() -> None:
    for seed in range(2):
        sim = Simulation(random.Random(100 + seed))
        for _ in range(4):
            sim.activity(steps=10)
            sim.run()
        sim.run()
        sim.sf_watermark, sim.sc_watermark = ENABLED_AT - dt.timedelta(hours=24), 0  # backfill from the beginning
        replay = sim.run()
        assert writes(replay) == 0, (seed, replay.counts())
        assert replay.conflicts.empty
        sim.assert_agreed()
