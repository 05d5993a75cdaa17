"""One benchmark scenario per process, so each peak-memory figure is that scenario's own.

A scenario starts its own emulator and SQLite store, builds its workload,
then times the sync (all pipeline steps in one process, exactly the code
the DAG's tasks run) or the naive client, and prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simple_salesforce import Salesforce
from sqlalchemy import select

from sales_connect import repository as repo
from sales_connect.db import Store, migrate
from sales_connect.models import Task
from sf_emulator.process import EmulatorProcess
from task_sync import pipeline
from task_sync.connections import direct_connector
from task_sync.salesforce import SalesforceGateway
from task_sync.settings import SyncSettings


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class World:
    """An emulator, a store and ``reps`` reps mapped between them, sync switched on an hour ago."""

    def __init__(self, folder: Path, reps: int) -> None:
        self.folder = folder
        self.emu = EmulatorProcess(state=folder / "emulator.db").start()
        self.sf = Salesforce(instance_url=self.emu.instance_url, session_id=self.emu.session_id,
                             session=self.emu.requests_session())
        self.store_url = f"sqlite:///{folder / 'sales_connect.db'}"
        migrate(self.store_url)
        self.store = Store(self.store_url)
        self.enabled_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        existing = [u["Id"] for u in self.sf.query("SELECT Id FROM User WHERE IsActive = true")["records"]]
        missing = max(0, reps - len(existing))
        if missing:
            new = self.emu.seed(users=[{"Username": f"bench.rep{i}@salesconnect.example", "FirstName": "Bench",
                                        "LastName": f"Rep {i}", "Email": f"bench.rep{i}@salesconnect.example"}
                                       for i in range(missing)])["users"]
            existing += new
        self.owners = existing[:reps]
        with self.store.session() as s:
            for i, owner in enumerate(self.owners):
                user = repo.create_user(s, email=f"rep{i}@bench.example", name=f"Rep {i}", sf_owner_id=owner)
                s.flush()
                repo.set_sync_enabled(s, user.id, True, self.enabled_at)
            self.user_ids = [u.id for u in repo.list_users(s)]

    def context(self, run_id: str) -> pipeline.RunContext:
        settings = SyncSettings.from_env()
        settings = type(settings)(**{**settings.__dict__, "work_dir": self.folder / "runs"})
        gateway = direct_connector(self.emu.instance_url, self.emu.session_id, self.emu.ca_bundle)
        return pipeline.RunContext(dag_run_id=run_id, run_type="manual", settings=settings,
                                   store_url=self.store_url, gateway_factory=lambda: SalesforceGateway(gateway))

    def salesforce_changes(self, count: int) -> None:
        now = dt.datetime.now(dt.UTC)
        start = now - dt.timedelta(minutes=30)
        self.emu.generate_tasks(count, owner_ids=self.owners, modstamp_from=start.isoformat(),
                                modstamp_to=now.isoformat(), subject_prefix="Salesforce task")

    def sales_connect_changes(self, count: int) -> list[int]:
        with self.store.session() as s:
            for i in range(count):
                task = Task(user_id=self.user_ids[i % len(self.user_ids)], subject=f"Sales Connect task {i}",
                            due_date=dt.date.today(), priority="normal", status="open",
                            created_at=dt.datetime.now(dt.UTC))
                s.add(task)
                if i % 5000 == 4999:
                    s.flush()
            s.flush()
            ids = list(s.scalars(select(Task.id)))
        return ids

    def close(self) -> None:
        self.store.dispose()
        self.emu.stop()


def sync_each_way(count: int, folder: Path) -> dict[str, Any]:
    """``count`` changes in Salesforce and ``count`` in Sales Connect, moved by one sync run."""
    world = World(folder, reps=10)
    try:
        world.salesforce_changes(count)
        world.sales_connect_changes(count)
        before = world.emu.counters()["total"]
        started = time.perf_counter()
        result = pipeline.run_inline(world.context("bench-each-way"))
        elapsed = time.perf_counter() - started
        calls = world.emu.counters()["total"] - before
        moved = sum(result["counts"]["sf_to_sc"].values()) + sum(result["counts"]["sc_to_sf"].values())
        return {
            "scenario": "each-way", "changes_each_way": count, "records_moved": moved, "seconds": round(elapsed, 2),
            "records_per_s": round(moved / elapsed), "api_calls": calls, "run_recorded_calls": result["api_calls"],
            "floor": math.ceil(count / 2000) + math.ceil(count / 200), "peak_rss_mb": round(_peak_rss_mb()),
        }
    finally:
        world.close()


def no_change(reps: int, folder: Path) -> dict[str, Any]:
    """API calls of a run with nothing to move, after a first sync, with ``reps`` enabled users."""
    world = World(folder, reps=reps)
    try:
        pipeline.run_inline(world.context("bench-first"))
        before = world.emu.counters()["total"]
        result = pipeline.run_inline(world.context("bench-idle"))
        return {"scenario": "no-change", "enabled_users": reps, "api_calls": world.emu.counters()["total"] - before,
                "run_recorded_calls": result["api_calls"], "peak_rss_mb": round(_peak_rss_mb())}
    finally:
        world.close()


def naive_each_way(count: int, folder: Path) -> dict[str, Any]:
    """The same workload through a per-record client: getUpdated, then one GET and one upsert per record."""
    world = World(folder, reps=10)
    try:
        world.salesforce_changes(count)
        sc_ids = world.sales_connect_changes(count)
        before = world.emu.counters()["total"]
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        changed = world.sf.Task.updated(now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1))["ids"]
        for sf_id in changed:
            world.sf.Task.get(sf_id)
        for task_id in sc_ids:
            world.sf.Task.upsert(f"Sales_Connect_Id__c/{task_id}",
                                 {"Subject": f"Sales Connect task {task_id}", "OwnerId": world.owners[0]})
        elapsed = time.perf_counter() - started
        moved = len(changed) + len(sc_ids)
        return {"scenario": "naive", "changes_each_way": count, "records_moved": moved, "seconds": round(elapsed, 2),
                "records_per_s": round(moved / elapsed), "api_calls": world.emu.counters()["total"] - before,
                "peak_rss_mb": round(_peak_rss_mb())}
    finally:
        world.close()


SCENARIOS = {"each-way": sync_each_way, "no-change": no_change, "naive": naive_each_way}


def main(argv: list[str]) -> int:
    name, size = argv[0], int(argv[1])
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
        print(json.dumps(SCENARIOS[name](size, Path(folder))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
