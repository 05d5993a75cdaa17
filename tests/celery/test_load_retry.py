"""A load task retried by Airflow (its worker died) re-runs on the same diffed plan.

On a CeleryExecutor a lost worker's ``load`` is retried, possibly elsewhere, with the
very files its first attempt read. If the first attempt committed its Sales Connect side
before dying, the retry must not import those Salesforce tasks a second time
(tests/deploy/test_sync_on_celery.py provokes this with a real killed worker; this test
pins it down in seconds, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sales_connect import repository
from sales_connect.db import Store, migrate
from sales_connect.models import Task, TaskLink
from sf_emulator.process import EmulatorProcess
from task_sync import pipeline
from task_sync.connections import direct_connector
from task_sync.fields import EXTERNAL_ID_FIELD
from task_sync.salesforce import RetryPolicy, SalesforceGateway, SalesforceUnavailable
from task_sync.settings import SyncSettings


def test_a_load_retried_after_its_sales_connect_side_committed_writes_nothing_twice(
    store_url: str, tmp_path: Path
) -> None:
    with EmulatorProcess() as emu:
        now = emu.clock()
        (owner,) = emu.seed(users=[{"Username": "rep@retry.example", "FirstName": "Rep", "LastName": "Retry",
                                    "Email": "rep@retry.example"}])["users"]
        emu.generate_tasks(3, owner_ids=[owner], subject_prefix="From Salesforce",
                           modstamp_from=(now - dt.timedelta(hours=3)).isoformat(),
                           modstamp_to=(now - dt.timedelta(hours=2)).isoformat())
        migrate(store_url)
        store = Store(store_url)
        with store.session(changed_by="user") as session:
            user = repository.create_user(session, email="rep@retry.example", name="Rep", sf_owner_id=owner)
            repository.set_sync_enabled(session, user.id, True, now=now - dt.timedelta(hours=1))
            repository.create_task(session, user.id, subject="From Sales Connect", now=now)
        run = pipeline.RunContext(
            dag_run_id="manual__retried_load", run_type="manual", store_url=store_url,
            settings=replace(SyncSettings.from_env(), work_dir=tmp_path),
            # One attempt per call: the armed fault below fails the load's first Salesforce write.
            gateway_factory=lambda: SalesforceGateway(direct_connector(emu.instance_url, emu.session_id,
                                                                       emu.ca_bundle),
                                                      retry=RetryPolicy(attempts=1)),
        )
        (shard,) = pipeline.plan_run(run)["shards"]
        diffed = pipeline.diff_shard(run, pipeline.extract_shard(run, shard))
        emu.add_fault("http_500", path="/composite/sobjects")
        with pytest.raises(SalesforceUnavailable):
            pipeline.load_shard(run, diffed)  # Sales Connect side committed, then the "worker" dies

        retried = pipeline.load_shard(run, diffed)

        assert retried["status"] == "success"
        with store.session() as session:
            subjects = Counter(session.scalars(select(Task.subject).where(Task.deleted_at.is_(None))))
            links = session.scalar(select(func.count()).select_from(TaskLink))
        store.dispose()
        assert subjects == Counter({"From Sales Connect": 1, "From Salesforce 1": 1, "From Salesforce 2": 1,
                                    "From Salesforce 3": 1})
        assert links == 4
        pushed = [t for t in emu.tasks() if t[EXTERNAL_ID_FIELD]]
        assert [t["Subject"] for t in pushed] == ["From Sales Connect"]
