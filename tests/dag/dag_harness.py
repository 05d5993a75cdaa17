"""A small world for DAG tests: reps on both sides, changes on either side, real DAG runs.

Salesforce is the emulator (seeded through its control plane when a test needs history, changed
through simple-salesforce otherwise); Sales Connect is the store, changed through its repository
as the app would. ``run()`` runs the real DAG with ``dag.test()`` and returns the sync history row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from simple_salesforce import Salesforce
from sqlalchemy import select

from sales_connect import repository as repo
from sales_connect.db import Store, migrate
from sales_connect.models import SyncConflict, SyncError, SyncRun, SyncSetting, Task, TaskLink
from sf_emulator.process import EmulatorProcess
from task_sync.connections import direct_connector
from task_sync.external_ids import NAMESPACE_KEY
from task_sync.pipeline import RunContext
from task_sync.salesforce import SalesforceGateway

# The emulator's default org has these active reps (besides the integration user).
REP_USERNAMES = (
    "ava.reyes@salesconnect.example",
    "ben.okafor@salesconnect.example",
    "chloe.martin@salesconnect.example",
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sf_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Rep:
    user_id: int
    owner_id: str
    login: str


class SyncHarness:
    def __init__(self, emu: EmulatorProcess, dag: Any, store_url: str) -> None:
        self.emu = emu
        self.dag = dag
        self._default_params = {name: param.value for name, param in dag.params.items()}
        migrate(store_url)
        self.store = Store(store_url)
        self.store_url = store_url
        self.sf = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id,
                             session=emu.requests_session())
        users = self.sf.query("SELECT Id, Username FROM User WHERE IsActive = true")["records"]
        self._owner_by_username = {u["Username"]: u["Id"] for u in users}

    def close(self) -> None:
        self.store.dispose()

    # -- people ---------------------------------------------------------------------------------

    def rep(self, index: int = 0, *, time_zone: str = "UTC", enable_at: dt.datetime | None = None,
            enabled: bool = True) -> Rep:
        """A Sales Connect user mapped to the emulator's ``index``-th rep; sync on at ``enable_at``."""
        username = REP_USERNAMES[index]
        owner = self._owner_by_username[username]
        login = username.split("@")[0]
        with self.store.session() as s:
            user = repo.create_user(s, email=username, name=login, sf_owner_id=owner, time_zone=time_zone,
                                    login=login)
            s.flush()
            user_id = user.id
        if enabled:
            self.enable(user_id, enable_at or now())
        return Rep(user_id, owner, login)

    def enable(self, user_id: int, at: dt.datetime | None = None) -> None:
        with self.store.session() as s:
            repo.set_sync_enabled(s, user_id, True, at or now())

    def disable(self, user_id: int, at: dt.datetime | None = None) -> None:
        with self.store.session() as s:
            repo.set_sync_enabled(s, user_id, False, at or now())

    def owner_of(self, index: int) -> str:
        """The Salesforce user id of the emulator's ``index``-th rep (whether or not a Sales Connect user maps it)."""
        return self._owner_by_username[REP_USERNAMES[index]]

    # -- Salesforce side ------------------------------------------------------------------------

    @contextmanager
    def salesforce_clock(self, at: dt.datetime) -> Iterator[None]:
        """Salesforce's clock reads ``at`` for what happens inside (edits, deletions, real runs, which
        take their watermarks from it), and real time again after: a history played days ago.
        Moving the clock purges recycle-bin rows older than 15 days, as Salesforce's purge would."""
        self.emu.set_clock(at)
        try:
            yield
        finally:
            self.emu.set_clock(now())

    def sf_seed(self, owner: str, subject: str, *, modified: dt.datetime | None = None,
                created: dt.datetime | None = None, **fields: Any) -> str:
        """A Salesforce task with a history (created/modified in the past), as another user made it."""
        modified = modified or now()
        created = created or modified
        record = {"Subject": subject, "OwnerId": owner, "CreatedDate": sf_time(created),
                  "LastModifiedDate": sf_time(modified), "SystemModstamp": sf_time(modified), **fields}
        return self.emu.seed(tasks=[record])["tasks"][0]

    def sf_create(self, owner: str, subject: str, **fields: Any) -> str:
        return self.sf.Task.create({"Subject": subject, "OwnerId": owner, **fields})["id"]

    def sf_update(self, sf_id: str, **fields: Any) -> None:
        self.sf.Task.update(sf_id, fields)

    def sf_delete(self, sf_id: str) -> None:
        self.sf.Task.delete(sf_id)

    def sf_task(self, sf_id: str) -> dict[str, Any]:
        return dict(self.sf.Task.get(sf_id))

    def sf_row(self, sf_id: str) -> dict[str, Any] | None:
        """A task through ``queryAll`` (the recycle bin included): ``IsDeleted`` tells where it is."""
        soql = ("SELECT Id, IsDeleted, OwnerId, Subject, Status, ActivityDate, Sales_Connect_Id__c FROM Task "
                f"WHERE Id = '{sf_id}'")
        rows = self.sf.query_all(soql, include_deleted=True)["records"]
        return dict(rows[0]) if rows else None

    def sf_tasks(self, owner: str) -> list[dict[str, Any]]:
        """Live (not deleted) Salesforce tasks of an owner."""
        soql = f"SELECT Id, Subject, Status, Priority, ActivityDate, Description, Sales_Connect_Id__c FROM Task WHERE OwnerId = '{owner}'"  # noqa: E501
        return [dict(r) for r in self.sf.query_all(soql)["records"]]

    # -- Sales Connect side ---------------------------------------------------------------------

    def sc_create(self, rep: Rep, subject: str, *, at: dt.datetime | None = None, **fields: Any) -> int:
        with self.store.session() as s:
            task = repo.create_task(s, rep.user_id, subject=subject, now=at or now(), **fields)
            s.flush()
            return task.id

    def sc_task(self, task_id: int) -> Task:
        with self.store.session() as s:
            task = s.get(Task, task_id)
            assert task is not None
            return task

    def sc_update(self, rep: Rep, task_id: int, **changes: Any) -> None:
        with self.store.session() as s:
            version = s.get(Task, task_id).version
            repo.update_task(s, rep.user_id, task_id, expected_version=version, **changes)

    def sc_complete(self, rep: Rep, task_id: int) -> None:
        with self.store.session() as s:
            repo.complete_task(s, rep.user_id, task_id, expected_version=s.get(Task, task_id).version)

    def sc_reopen(self, rep: Rep, task_id: int) -> None:
        with self.store.session() as s:
            repo.reopen_task(s, rep.user_id, task_id, expected_version=s.get(Task, task_id).version)

    def sc_delete(self, rep: Rep, task_id: int) -> None:
        with self.store.session() as s:
            repo.delete_task(s, rep.user_id, task_id, expected_version=s.get(Task, task_id).version)

    def sc_tasks(self, rep: Rep, *, include_deleted: bool = False) -> list[Task]:
        with self.store.session() as s:
            query = select(Task).where(Task.user_id == rep.user_id).order_by(Task.id)
            if not include_deleted:
                query = query.where(Task.deleted_at.is_(None))
            return list(s.scalars(query))

    def sc_by_subject(self, rep: Rep, subject: str) -> Task | None:
        return next((t for t in self.sc_tasks(rep) if t.subject == subject), None)

    def command_center(self, rep: Rep, at: dt.datetime) -> list[Task]:
        """What the rep's Command Center shows at ``at`` (the app's own query)."""
        with self.store.session() as s:
            return repo.command_center(s, rep.user_id, at)

    def namespace(self) -> str:
        """The external-id namespace this installation pinned (after its first run)."""
        with self.store.session() as s:
            setting = s.get(SyncSetting, NAMESPACE_KEY)
            assert setting is not None, "no run has pinned the namespace yet"
            return setting.value

    def external_id(self, task_id: int) -> str:
        """What ``Sales_Connect_Id__c`` holds for a task this installation pushed."""
        return f"{self.namespace()}:{task_id}"

    def link_of(self, task_id: int) -> TaskLink | None:
        with self.store.session() as s:
            return s.get(TaskLink, task_id)

    def conflicts(self) -> list[SyncConflict]:
        with self.store.session() as s:
            return list(s.scalars(select(SyncConflict).order_by(SyncConflict.id)))

    def error(self, error_id: int) -> SyncError:
        with self.store.session() as s:
            error = s.get(SyncError, error_id)
            assert error is not None
            return error

    def open_errors(self) -> list[SyncError]:
        with self.store.session() as s:
            return list(s.scalars(select(SyncError).where(SyncError.resolved_at.is_(None))))

    # -- faults ---------------------------------------------------------------------------------

    def armed_faults(self) -> list[dict[str, Any]]:
        """Request faults still waiting to be served (an empty list proves each one was hit)."""
        return self.emu.control("GET", "faults")["requests"]

    # -- runs -----------------------------------------------------------------------------------

    def pipeline_run(self, dag_run_id: str, run_type: str = "manual", **fields: Any) -> RunContext:
        """A run driven step by step through ``task_sync.pipeline`` (to stop it where a worker could die)."""
        emu = self.emu
        return RunContext(
            dag_run_id=dag_run_id, run_type=run_type, store_url=self.store_url,
            gateway_factory=lambda: SalesforceGateway(direct_connector(emu.instance_url, emu.session_id,
                                                                       emu.ca_bundle)),
            **fields,
        )

    def run(self, *, expect: str | tuple[str, ...] = ("success",), logical_date: dt.datetime | None = None,
            **conf: Any) -> SyncRun:
        """One real DAG run; returns its sync history row (and checks the DAG run's state).

        Every param is passed, defaults included: in one process, Airflow's ``process_params``
        resolves the run's conf into the task's own ``Param`` objects, so a value given to one run
        (``full_reconcile=True``) would otherwise stay in force for every later run of the session.
        """
        run_conf = {**self._default_params, **conf}
        dag_run = self.dag.test(logical_date=logical_date, run_conf=run_conf)
        with self.store.session() as s:
            history = s.scalars(select(SyncRun).where(SyncRun.dag_run_id == dag_run.run_id)).one()
        expected = (expect,) if isinstance(expect, str) else expect
        assert history.status in expected, (history.status, history.message, history.counts)
        want_state = "failed" if history.status == "failed" else "success"
        assert str(getattr(dag_run.state, "value", dag_run.state)) == want_state, (dag_run.state, history.message)
        return history
