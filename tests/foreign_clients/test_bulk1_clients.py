"""Bulk API 1.0 through two clients we did not write: simple-salesforce's `sf.bulk` and jsforce's `conn.bulk`.

Each moves Task records with its own job/batch/poll/result code, unchanged; what it
reports is checked against what REST then reads back.
"""

from __future__ import annotations

import pytest
from foreign_harness import INSTALL_HINT, JS_DIR, run_driver
from simple_salesforce import Salesforce

from sf_emulator.process import EmulatorProcess

EXT = "Sales_Connect_Id__c"


@pytest.fixture
def sf(emu: EmulatorProcess) -> Salesforce:
    return Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session(),
                      version="59.0")


def rest_rows(sf: Salesforce, soql: str, *, include_deleted: bool = False) -> list[dict]:
    return sf.query_all(soql, include_deleted=include_deleted)["records"]


def test_simple_salesforce_bulk_insert_update_upsert_delete_query_and_query_all(
        sf: Salesforce, emu: EmulatorProcess) -> None:
    inserted = sf.bulk.Task.insert([{"Subject": f"ss bulk {i}", EXT: f"SS-{i}"} for i in range(5)]
                                   + [{"Subject": "x" * 256, EXT: "SS-long"}])
    assert [r["success"] for r in inserted] == [True] * 5 + [False]
    assert inserted[5]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    ids = [r["id"] for r in inserted[:5]]
    assert {r["Id"] for r in rest_rows(sf, "SELECT Id FROM Task")} == set(ids)

    updated = sf.bulk.Task.update([{"Id": ids[0], "Status": "Completed"}, {"Id": ids[1], "Priority": "High"}])
    assert [(r["success"], r["created"]) for r in updated] == [(True, False), (True, False)]
    upserted = sf.bulk.Task.upsert([{EXT: "SS-0", "Subject": "ss bulk 0 again"}, {EXT: "SS-new", "Subject": "new"}],
                                   external_id_field=EXT)
    assert [r["created"] for r in upserted] == [False, True]
    deleted = sf.bulk.Task.delete([{"Id": ids[4]}])
    assert [r["success"] for r in deleted] == [True]

    live = {r["Id"]: r for r in rest_rows(sf, "SELECT Id, Subject, Status, Priority FROM Task")}
    assert len(live) == 5 and ids[4] not in live
    assert live[ids[0]]["Subject"] == "ss bulk 0 again" and live[ids[0]]["Status"] == "Completed"
    assert live[ids[1]]["Priority"] == "High"

    queried = sf.bulk.Task.query("SELECT Id, Subject, CreatedDate FROM Task", wait=1)
    assert {r["Id"] for r in queried} == set(live)
    assert all(isinstance(r["CreatedDate"], int) for r in queried)  # Bulk 1.0 JSON: epoch milliseconds
    every = sf.bulk.Task.query_all("SELECT Id, IsDeleted FROM Task", wait=1)
    assert len(every) == 6 and [r["Id"] for r in every if r["IsDeleted"]] == [ids[4]]
    counters = emu.counters()["by_resource"]
    assert counters["bulk1"] >= 6 * 4  # every job: create, batch, poll, result, close


def test_jsforce_bulk_load_for_each_operation_then_bulk_query(emu: EmulatorProcess) -> None:
    if not (JS_DIR / "node_modules" / "jsforce").is_dir():
        pytest.fail(INSTALL_HINT)
    inserts = [{"Subject": f"js bulk {i}", EXT: f"JB-{i}"} for i in range(4)] + [{"Subject": "y" * 256}]
    upserts = [{EXT: "JB-0", "Subject": "js bulk 0 again"}, {EXT: "JB-new", "Subject": "js new"}]
    seen = run_driver(["node", str(JS_DIR / "bulk1.js")], emu, "load_and_query",
                      {"inserts": inserts, "upserts": upserts}, 90)
    assert seen["inserted"] == [4, 1]
    assert seen["insertErrors"][0].startswith("STRING_TOO_LONG:")
    assert seen["upserted"] == [2, 0] and seen["upsertCreated"] == [False, True]
    assert seen["updated"] == [4, 0]
    assert seen["deleted"] == [1, 0]

    sf = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())
    live = {r["Id"]: r for r in rest_rows(sf, "SELECT Id, Subject, Status FROM Task")}
    assert len(live) == 4 and seen["deletedId"] not in live
    assert {r["Id"]: (r["Subject"], r["Status"]) for r in seen["queried"]} == {
        i: (r["Subject"], r["Status"]) for i, r in live.items()}
    assert sorted(r["Subject"] for r in live.values()) == ["js bulk 1", "js bulk 2", "js bulk 3", "js new"]
    assert {r["Status"] for r in live.values() if r["Subject"] != "js new"} == {"Completed"}
