"""jsforce runs a connector's whole cycle on Task: describe, reads, Collections writes, replication, Bulk 2.0."""

from __future__ import annotations

from datetime import timedelta

from foreign_harness import Driver, seed_tasks

from sf_emulator.process import EmulatorProcess


def _soql_time(emu: EmulatorProcess, delta: timedelta) -> str:
    return (emu.clock() + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_jsforce_describes_reads_writes_replicates_and_bulk_loads_tasks(jsforce: Driver, emu: EmulatorProcess) -> None:
    seed_tasks(emu, 2100, modstamp_from="2026-01-01T00:00:00Z", modstamp_to="2026-01-02T00:00:00Z")
    since = _soql_time(emu, -timedelta(minutes=1))
    seen = jsforce("sync_cycle", missing_id="00T5e0000000000AAA")
    assert seen["describe"]["name"] == "Task" and "Sales_Connect_Id__c" in seen["describe"]["externalIds"]
    assert seen["full"] == 2100
    assert seen["created"] == 3
    assert seen["retrieved"] == ["jsforce 1", "jsforce 2", "jsforce 3", None]
    assert seen["updated"] == 3
    assert seen["upserted"] == [False, True]
    assert seen["destroyed"] == 1
    assert seen["bulk"] == [[2, 0], [2, 0], [1, 0]]
    assert sorted(seen["bulkUpsertCreated"]) == ["false", "true"]
    assert seen["bulkRead"] == 2100 + 3 + 2

    # The next run, two minutes on: getUpdated/getDeleted cover whole minutes up to the server's now.
    emu.advance_clock(120)
    later = jsforce("incremental", since=since, end=_soql_time(emu, timedelta(0)))
    # Live and changed: JS-1, JS-2, JS-9, JS-B1, JS-B3; deleted: JS-3 and JS-B2.
    assert later == {"changed": 5, "deletedRows": 2, "updatedIds": 5, "deletedIds": 2}
