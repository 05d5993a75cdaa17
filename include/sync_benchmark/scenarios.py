"""One benchmark scenario per process, so each peak-memory figure is that scenario's own.

A scenario starts its own emulator and SQLite store, builds its workload,
then times the sync (all pipeline steps in one process, exactly the code
the DAG's tasks run) or the naive client, and prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from simple_salesforce import Salesforce
from sqlalchemy import select

from airflow_stack.pg import scratch_database
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

    def __init__(self, folder: Path, reps: int, store_url: str | None = None) -> None:
        self.folder = folder
        self.emu = EmulatorProcess(state=folder / "emulator.db").start()
        self.sf = Salesforce(instance_url=self.emu.instance_url, session_id=self.emu.session_id,
                             session=self.emu.requests_session())
        self.store_url = store_url or f"sqlite:///{folder / 'sales_connect.db'}"
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

    def context(self, run_id: str, **overrides: Any) -> pipeline.RunContext:
        settings = SyncSettings.from_env()
        settings = type(settings)(**{**settings.__dict__, "work_dir": self.folder / "runs", **overrides})
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


def rep_wait(count: int, folder: Path) -> dict[str, Any]:
    """How long a rep's save waits while a first sync brings ``count`` tasks in.

    A rep edits one of their tasks every 50 ms during the whole run; each save is timed from its
    first statement to its commit. The sync's Sales Connect load holds the change counter's lock
    for one batch (``SALES_CONNECT_SYNC_LOAD_BATCH``) at a time, so the longest wait is about one
    batch's write, whatever ``count`` is. ``BENCH_LOAD_BATCH`` sets the batch (a batch of ``count``
    shows the one-transaction load it replaced); ``BENCH_STORE`` a PostgreSQL server's admin URL to
    use instead of SQLite (``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``).
    """
    batch = int(os.environ.get("BENCH_LOAD_BATCH", "500"))
    server = os.environ.get("BENCH_STORE")
    with scratch_database(server, "sync_bench") if server else nullcontext() as store_url:
        world = World(folder, reps=10, store_url=store_url)
        try:
            return _timed_saves_during_first_sync(world, count, batch)
        finally:
            world.close()


def _save_every_50ms(store_url: str, rep: int, task_id: int, version: int, done: Any, out: Any) -> None:
    """The rep, in a process of their own (as the api-server is): a thread beside the sync would
    time the GIL, not the database."""
    store = Store(store_url)
    waits: list[float] = []
    failures: list[str] = []
    while not done.is_set():
        started = time.perf_counter()
        try:
            with store.session() as s:
                version = repo.update_task(s, rep, task_id, expected_version=version,
                                           subject=f"edited at {started:.3f}").version
        except Exception as exc:  # a refused save is a figure here, not a crash of the benchmark
            failures.append(f"{type(exc).__name__}: {exc}"[:200])
        waits.append(time.perf_counter() - started)
        done.wait(0.05)
    store.dispose()
    out.put((waits, failures))


def _timed_saves_during_first_sync(world: World, count: int, batch: int) -> dict[str, Any]:
    rep = world.user_ids[0]
    with world.store.session() as s:
        task = repo.create_task(s, rep, subject="the rep's own task")
        task_id, version = task.id, task.version
    world.salesforce_changes(count)
    spawn = multiprocessing.get_context("spawn")
    done, out = spawn.Event(), spawn.Queue()
    saver = spawn.Process(target=_save_every_50ms, args=(world.store_url, rep, task_id, version, done, out))
    saver.start()
    time.sleep(2)  # the rep's process is saving before the run starts
    started = time.perf_counter()
    try:
        result = pipeline.run_inline(world.context("bench-rep-wait", load_batch=batch))
    finally:
        done.set()
        waits, failures = out.get(timeout=60)
        saver.join()
    elapsed = time.perf_counter() - started
    waits_ms = sorted(w * 1000 for w in waits)
    return {
        "scenario": "rep-wait", "first_sync_tasks": count, "load_batch": batch,
        "store": world.store_url.split(":", 1)[0], "imported": result["counts"]["sf_to_sc"]["create"],
        "seconds": round(elapsed, 2), "saves": len(waits), "failed_saves": len(failures),
        "first_failure": failures[0] if failures else None,
        "wait_ms_median": round(statistics.median(waits_ms), 1),
        "wait_ms_p99": round(waits_ms[int(0.99 * (len(waits_ms) - 1))], 1),
        "wait_ms_max": round(waits_ms[-1], 1),
    }


SCENARIOS = {"each-way": sync_each_way, "no-change": no_change, "naive": naive_each_way, "rep-wait": rep_wait}


def main(argv: list[str]) -> int:
    name, size = argv[0], int(argv[1])
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
        print(json.dumps(SCENARIOS[name](size, Path(folder))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
