"""The world a history runs in: the real emulator, the real store, and the real pipeline steps.

Drivers only: each method is one thing a rep, a Salesforce user, an admin or the scheduler does.
Rep actions go through ``sales_connect.repository`` (via the DAG harness), Salesforce actions
through ``simple-salesforce`` over HTTPS, faults and clock moves through the emulator's control
plane, and a run drives ``task_sync.pipeline`` step by step so it can stop between any two steps.
A killed load is a real subprocess killed with SIGKILL while its write call is in flight.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from simple_salesforce.exceptions import SalesforceError
from sqlalchemy import select

from sales_connect import repository as repo
from sales_connect.errors import NotFoundError, StaleVersionError
from sales_connect.models import SyncConflict, SyncError, SyncRun, Task, TaskLink, User
from sf_emulator.process import EmulatorProcess
from task_sync import pipeline
from task_sync.pipeline import RunContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dag"))
from dag_harness import REP_USERNAMES, Rep, SyncHarness

# Salesforce users the sync never serves (no Sales Connect user is mapped to them).
UNSYNCED_USERNAME = "integration@salesconnect.example"
PIPELINE_STEPS = ("plan", "extract", "diff", "load", "publish", "report")
_NO_DAG = SimpleNamespace(params={})  # histories drive pipeline steps, never dag.test()

_KILLED_LOAD = """
import json, sys
from task_sync import pipeline
from task_sync.pipeline import RunContext
from task_sync.connections import direct_connector
from task_sync.salesforce import SalesforceGateway
spec = json.loads(sys.argv[1])
run = RunContext(dag_run_id=spec["dag_run_id"], run_type=spec["run_type"], store_url=spec["store_url"],
                 gateway_factory=lambda: SalesforceGateway(direct_connector(spec["url"], spec["sid"], spec["ca"])))
print("loading", flush=True)
pipeline.load_shard(run, spec["diffed"])
"""


class World:
    """One history's emulator org and Sales Connect store, plus the run counter."""

    def __init__(self, emu: EmulatorProcess, store_url: str) -> None:
        emu.reset()
        emu.clear_faults()
        self.emu = emu
        self.harness = SyncHarness(emu, _NO_DAG, store_url)
        self.store = self.harness.store
        self.store_url = store_url
        self.reps: list[Rep] = []
        self.published: dict[str, Any] | None = None
        self.run_number = 0
        self.shards = int(os.environ.get("SALES_CONNECT_SYNC_SHARDS", "4"))
        self.unsynced_owner = self.harness._owner_by_username[UNSYNCED_USERNAME]
        self._last_now: dt.datetime | None = None

    def close(self) -> None:
        self.emu.clear_faults()
        self.harness.close()

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The world's time: Salesforce's clock (moved by the control plane); the store follows it.

        Salesforce's clock has whole seconds, the app stamps microseconds: the real clock's fraction is
        added (never going back), or a task created in the second sync was switched on would pass for
        one that existed before (``created_at == enabled_at``), which no real rep can do."""
        moment = self.emu.clock().replace(microsecond=dt.datetime.now(dt.UTC).microsecond)
        if self._last_now is not None:
            moment = max(moment, self._last_now + dt.timedelta(microseconds=1))
        self._last_now = moment
        return moment

    def advance(self, seconds: float) -> None:
        self.emu.advance_clock(seconds)

    # -- people and settings --------------------------------------------------------------------

    def add_rep(self, time_zone: str) -> Rep | None:
        if len(self.reps) == len(REP_USERNAMES):
            return None
        rep = self.harness.rep(len(self.reps), time_zone=time_zone, enabled=False)
        self.reps.append(rep)
        return rep

    def set_sync(self, rep: Rep, enabled: bool) -> None:
        with self.store.session() as s:
            repo.set_sync_enabled(s, rep.user_id, enabled, self.now())

    def user(self, rep: Rep) -> User:
        with self.store.session() as s:
            return s.get(User, rep.user_id)

    # -- Sales Connect side ---------------------------------------------------------------------

    def sc_create(self, rep: Rep, fields: dict[str, Any]) -> int:
        with self.store.session() as s:
            task = repo.create_task(s, rep.user_id, now=self.now(), **_typed(fields))
            s.flush()
            return task.id

    def sc_act(self, rep: Rep, task_id: int, action: str, fields: dict[str, Any] | None = None) -> bool:
        """A rep's edit/complete/reopen/delete; False when the task is gone or not theirs (the app says 404)."""
        try:
            with self.store.session() as s:
                task = repo.get_task(s, rep.user_id, task_id)
                version, at = task.version, self.now()
                if action == "edit":
                    repo.update_task(s, rep.user_id, task_id, expected_version=version, now=at, **_typed(fields or {}))
                else:
                    call = {"complete": repo.complete_task, "reopen": repo.reopen_task,
                            "delete": repo.delete_task}[action]
                    call(s, rep.user_id, task_id, expected_version=version, now=at)
            return True
        except (NotFoundError, StaleVersionError):
            return False

    def sc_rows(self) -> list[Task]:
        with self.store.session() as s:
            return list(s.scalars(select(Task).order_by(Task.id)))

    def links(self) -> list[TaskLink]:
        with self.store.session() as s:
            return list(s.scalars(select(TaskLink)))

    def conflicts(self) -> list[SyncConflict]:
        with self.store.session() as s:
            return list(s.scalars(select(SyncConflict)))

    def errors(self) -> list[SyncError]:
        with self.store.session() as s:
            return list(s.scalars(select(SyncError)))

    def history(self, dag_run_id: str) -> SyncRun | None:
        with self.store.session() as s:
            return s.scalars(select(SyncRun).where(SyncRun.dag_run_id == dag_run_id)).one_or_none()

    # -- Salesforce side ------------------------------------------------------------------------

    def sf(self, call: str, *args: Any) -> Any:
        """One simple-salesforce call; a refusal (a value Salesforce rejects) answers None."""
        try:
            if call == "create":
                return self.harness.sf.Task.create(*args)["id"]
            if call == "upsert":
                return self.harness.sf.Task.upsert(*args)
            return getattr(self.harness.sf.Task, call)(*args)
        except SalesforceError:
            return None

    def sf_rows(self) -> list[dict[str, Any]]:
        """Every Salesforce task, the recycle bin and archive included, with the emulator's bookkeeping."""
        return self.emu.tasks()

    def undelete(self, sf_id: str) -> bool:
        """Restore from the recycle bin as the UI does (SOAP undelete); False if it is not there."""
        return bool(self.emu.control("POST", "undelete", {"ids": [sf_id]})["undeleted"])

    # -- runs -----------------------------------------------------------------------------------

    def run(self, kind: str, *, user_ids: tuple[int, ...] = (), stop_after: str | None = None,
            kill_load: bool = False, during_load: Any = None) -> SyncRun | None:
        """A run of ``kind`` (scheduled, user_ids, backfill, dry_run, full_reconcile), driven step by step.

        ``stop_after`` names the last step that runs (the worker dies there); ``kill_load`` runs the
        first shard's load in a subprocess and SIGKILLs it while its Salesforce write is in flight;
        ``during_load`` is called between the first shard's diff and its load (or the load's retry,
        after a kill): a user editing while the run works from a plan it already made.
        A step that raises (a fault outlasting the retries) ends the run as Airflow would leave it:
        the report step still runs, as a failed upstream does not stop it (trigger rule all_done).
        """
        self.run_number += 1
        dag_run_id = f"{kind}__{self.run_number:04d}"
        fields: dict[str, Any] = {}
        run_type = "scheduled"
        if kind == "user_ids":
            fields["user_ids"], run_type = user_ids, "manual"
        elif kind == "full_reconcile":
            fields["full_reconcile"], run_type = True, "manual"
        elif kind == "dry_run":
            fields["dry_run"], run_type = True, "manual"
        elif kind == "backfill":
            end = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
            fields.update(interval_start=end - dt.timedelta(minutes=30), interval_end=end)
            run_type = "backfill"
        run = self.harness.pipeline_run(dag_run_id, run_type, **fields)
        run = replace(run, prior_watermarks=self.published)
        plan = self._step(lambda: pipeline.plan_run(run))
        if stop_after == "plan":
            return self.history(dag_run_id)
        loaded: list[dict[str, Any]] = []
        for index, shard in enumerate((plan or {}).get("shards", [])):
            extracted = self._step(lambda shard=shard: pipeline.extract_shard(run, shard))
            if stop_after == "extract" or extracted is None:
                continue
            diffed = self._step(lambda extracted=extracted: pipeline.diff_shard(run, extracted))
            if stop_after == "diff" or diffed is None:
                continue
            if kill_load and index == 0:
                self._killed_load(run, diffed)
            if during_load is not None and index == 0:
                during_load()
            result = self._step(lambda diffed=diffed: pipeline.load_shard(run, diffed))
            if result is not None:
                loaded.append(result)
        if stop_after in ("extract", "diff", "load"):
            return self.history(dag_run_id)
        published = self._step(lambda: pipeline.publish_watermarks(run, plan or {}, loaded))
        if published is not None or not run.advances_watermarks:
            self.published = published if run.advances_watermarks else self.published
        if stop_after == "publish":
            return self.history(dag_run_id)
        self._step(lambda: pipeline.report(run, plan or {}, loaded, published))
        return self.history(dag_run_id)

    @staticmethod
    def _step(call: Any) -> Any:
        try:
            return call()
        except pipeline.RunIncomplete:
            return None
        except Exception as exc:  # a task failing is part of the history; report records it
            if isinstance(exc, AssertionError | KeyboardInterrupt):
                raise
            return None

    def _killed_load(self, run: RunContext, diffed: dict[str, Any]) -> None:
        """SIGKILL a real load process while its first Salesforce write waits on the wire."""
        self.emu.add_fault("delay", count=1, path="/composite/sobjects", delay_ms=3000)
        spec = {"dag_run_id": run.dag_run_id, "run_type": run.run_type, "store_url": self.store_url,
                "url": self.emu.instance_url, "sid": self.emu.session_id, "ca": self.emu.ca_bundle,
                "diffed": diffed}
        proc = subprocess.Popen([sys.executable, "-c", _KILLED_LOAD, json.dumps(spec, default=str)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=os.environ)
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self.emu.clear_faults()
        time.sleep(2.0)  # the dead worker's request is applied when its delay ends, as a real one would be


def _typed(fields: dict[str, Any]) -> dict[str, Any]:
    """A step's JSON values as the repository takes them (dates as ``date``)."""
    due = fields.get("due_date")
    return {**fields, "due_date": dt.date.fromisoformat(due)} if isinstance(due, str) else fields
