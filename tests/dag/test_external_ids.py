"""Issue 10 #5: a new task's push never takes over a Salesforce task that already holds its external id.

``Sales_Connect_Id__c`` carries ``<namespace>:<task id>``. A record holding the bare task id (another
installation, an old import) does not collide any more; one holding our very value (a sandbox
copy, a store that was reset) is left untouched and the task is refused as FOREIGN_EXTERNAL_ID.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from dag_harness import SyncHarness, now

from task_sync.external_ids import FOREIGN_EXTERNAL_ID

NAMESPACE = "acme-prod"


@pytest.fixture
def namespaced(harness: SyncHarness, monkeypatch: pytest.MonkeyPatch) -> SyncHarness:
    """The harness with the connection's ``external_id_namespace`` extra set."""
    emu = harness.emu
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps({"conn_type": "salesforce", "extra": {
        "instance_url": emu.instance_url, "session_id": emu.session_id, "ca_bundle": emu.ca_bundle,
        "external_id_namespace": NAMESPACE}}))
    return harness


@pytest.mark.parametrize("held", ["bare task id", "our own value"])
def test_a_new_task_never_takes_over_a_salesforce_task_holding_its_external_id(
    namespaced: SyncHarness, held: str
) -> None:
    harness = namespaced
    rep, someone = harness.rep(0), harness.rep(1, enabled=False)
    task_id = harness.sc_create(rep, "call the buyer", due_date=now().date())
    value = str(task_id) if held == "bare task id" else f"{NAMESPACE}:{task_id}"
    stranger = harness.sf_seed(someone.owner_id, "their renewal", Status="In Progress", Sales_Connect_Id__c=value,
                               modified=now() - dt.timedelta(days=40))

    history = harness.run(expect=("success", "partial"))

    untouched = harness.sf_task(stranger)
    assert (untouched["Subject"], untouched["Status"], untouched["OwnerId"], untouched["Sales_Connect_Id__c"]) == (
        "their renewal", "In Progress", someone.owner_id, value)
    link = harness.link_of(task_id)
    if held == "bare task id":
        assert history.status == "success"
        assert link is not None and link.sf_id != stranger
        assert harness.sf_task(link.sf_id)["Sales_Connect_Id__c"] == f"{NAMESPACE}:{task_id}"
    else:
        assert history.status == "partial" and link is None
        [error] = harness.open_errors()
        assert (error.task_id, error.error_code) == (task_id, FOREIGN_EXTERNAL_ID) and stranger in error.message
        assert harness.sf_tasks(rep.owner_id) == []


def test_an_unlinked_record_holding_a_bare_task_id_is_not_adopted(harness: SyncHarness) -> None:
    """A stranger's record owned by the rep, holding the id of one of the rep's tasks that sync never
    pushed: it is imported as a task of its own, and the rep's task keeps what the rep wrote."""
    rep = harness.rep(0, enable_at=now() - dt.timedelta(hours=1))
    mine = harness.sc_create(rep, "my own notes", at=now() - dt.timedelta(days=2))
    stranger = harness.sf_seed(rep.owner_id, "imported long ago", Sales_Connect_Id__c=str(mine))

    harness.run()

    assert harness.sc_task(mine).subject == "my own notes" and harness.link_of(mine) is None
    imported = harness.sc_by_subject(rep, "imported long ago")
    assert imported is not None and imported.id != mine and harness.link_of(imported.id).sf_id == stranger


def test_the_namespace_is_pinned_and_a_different_one_stops_the_sync(
    harness: SyncHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = harness.rep(0)
    first = harness.sc_create(rep, "first")
    harness.run()
    pinned = harness.namespace()
    assert harness.sf_task(harness.link_of(first).sf_id)["Sales_Connect_Id__c"] == f"{pinned}:{first}"

    emu = harness.emu
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps({"conn_type": "salesforce", "extra": {
        "instance_url": emu.instance_url, "session_id": emu.session_id, "ca_bundle": emu.ca_bundle,
        "external_id_namespace": "somewhere-else"}}))
    harness.sc_create(rep, "second")
    stopped = harness.run(expect="failed")
    assert "somewhere-else" in stopped.message and repr(pinned) in stopped.message
    assert len(harness.sf_tasks(rep.owner_id)) == 1
