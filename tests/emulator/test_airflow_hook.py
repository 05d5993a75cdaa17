"""The Airflow SalesforceHook against the emulator: connection from an AIRFLOW_CONN_ env var, direct mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

from sf_emulator.process import EmulatorProcess


@pytest.fixture
def hook(emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> SalesforceHook:
    monkeypatch.setenv("AIRFLOW_CONN_SF_EMULATOR", emu.airflow_connection())
    assert json.loads(emu.airflow_connection())["extra"]["instance_url"] == emu.instance_url
    return SalesforceHook(salesforce_conn_id="sf_emulator", session_id=emu.session_id,
                          session=emu.requests_session())


def test_make_query_with_and_without_deleted(emu: EmulatorProcess, hook: SalesforceHook) -> None:
    emu.generate_tasks(2100)
    sf = hook.get_conn()
    doomed = sf.Task.create({"Subject": "doomed"})["id"]
    sf.Task.delete(doomed)
    live = hook.make_query("SELECT Id, Subject FROM Task")
    assert (live["totalSize"], live["done"]) == (2100, True)
    assert doomed not in {r["Id"] for r in live["records"]}
    everything = hook.make_query("SELECT Id, IsDeleted FROM Task", include_deleted=True)
    assert everything["totalSize"] == 2101
    assert [r["IsDeleted"] for r in everything["records"] if r["Id"] == doomed] == [True]
    small = hook.make_query("SELECT Id FROM Task", query_params={"headers": {"Sforce-Query-Options": "batchSize=500"}})
    assert small["totalSize"] == 2100
    assert emu.counters()["by_resource"]["query"] == 2 + 2 + 5


def test_describe_and_available_fields(hook: SalesforceHook) -> None:
    described = hook.describe_object("Task")
    assert described["name"] == "Task"
    fields = hook.get_available_fields("Task")
    assert {"Id", "Subject", "Status", "SystemModstamp", "Sales_Connect_Id__c"} <= set(fields)
    assert fields == [f["name"] for f in described["fields"]]


def test_object_to_df_coerces_date_and_datetime_columns(emu: EmulatorProcess, hook: SalesforceHook) -> None:
    emu.set_clock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    hook.get_conn().Task.create({"Subject": "frame me", "ActivityDate": "2024-05-03"})
    records = hook.make_query("SELECT Id, Subject, ActivityDate, CreatedDate FROM Task")["records"]
    frame = hook.object_to_df(records, coerce_to_timestamp=True, record_time_added=True)
    assert list(frame.columns) == ["id", "subject", "activitydate", "createddate", "time_fetched_from_salesforce"]
    row = frame.iloc[0]
    assert row["subject"] == "frame me"
    assert row["activitydate"] == datetime(2024, 5, 3, tzinfo=UTC).timestamp()
    assert datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp() <= row["createddate"] < datetime(
        2024, 5, 1, 12, 1, tzinfo=UTC).timestamp()
