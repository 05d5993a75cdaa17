"""Issue 10 #18: the first run of a connection checks ``Sales_Connect_Id__c`` and says what to create.

One describe of Task per connection: a missing field, one that is not an External ID, not Unique,
or read-only for the integration user stops the run before anything is read or written, with the
field's label, API name, type and settings in the message; once the admin fixes it the next run
goes through, and later runs of the same connection describe nothing.
"""

from __future__ import annotations

import json

import pytest
from dag_harness import SyncHarness

EXT = "Sales_Connect_Id__c"
WHAT_TO_CREATE = ("Sales Connect Id", EXT, "Text", "External ID", "Unique", "field-level security")


def _describes(harness: SyncHarness) -> int:
    return int(harness.emu.counters()["by_resource"].get("describe", 0))


def _sf_task_count(harness: SyncHarness) -> int:
    """Every Task row in the org, read through the control plane (a query naming the field would fail)."""
    return int(harness.emu.control("GET", "tasks")["totalSize"])


def test_a_missing_field_stops_the_first_run_with_what_to_create(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    task_id = harness.sc_create(rep, "call the buyer")
    harness.emu.change_field(EXT, deleted=True)

    stopped = harness.run(expect="failed")

    assert all(words in stopped.message for words in WHAT_TO_CREATE), stopped.message
    assert "has no field" in stopped.message
    assert harness.link_of(task_id) is None and _sf_task_count(harness) == 0

    harness.emu.restore_fields()
    assert harness.run().counts["sc_to_sf"]["create"] == 1


@pytest.mark.parametrize(("change", "problem"), [
    ({"external_id": False}, "is not marked External ID"),
    ({"unique": False}, "is not marked Unique"),
    ({"createable": False, "updateable": False}, "may not edit"),
])
def test_a_field_set_up_wrongly_stops_the_first_run_naming_the_setting(
    harness: SyncHarness, change: dict, problem: str
) -> None:
    rep = harness.rep(0)
    harness.sc_create(rep, "call the buyer")
    harness.emu.change_field(EXT, **change)

    stopped = harness.run(expect="failed")

    assert problem in stopped.message and all(words in stopped.message for words in WHAT_TO_CREATE), stopped.message
    assert _sf_task_count(harness) == 0


def test_the_check_costs_one_describe_per_connection_and_runs_again_when_it_changes(
    harness: SyncHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = harness.rep(0)
    harness.sc_create(rep, "first")
    harness.run()
    harness.sc_create(rep, "second")
    harness.run()
    assert _describes(harness) == 1

    harness.emu.change_field(EXT, unique=False)
    harness.sc_create(rep, "third")
    harness.run()  # the same connection passed already: not asked again
    assert _describes(harness) == 1

    emu = harness.emu
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps({"conn_type": "salesforce", "extra": {
        "instance_url": emu.instance_url, "session_id": emu.session_id, "ca_bundle": emu.ca_bundle,
        "version": "59.0"}}))
    stopped = harness.run(expect="failed")
    assert "is not marked Unique" in stopped.message and _describes(harness) == 2
