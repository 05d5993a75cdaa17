"""aiosalesforce runs a connector's cycle on Task: SOAP login, describe, reads, writes, Bulk 2.0, deletions."""

from __future__ import annotations

from datetime import timedelta

from foreign_harness import Driver, seed_tasks

from sf_emulator.process import EmulatorProcess


def test_aiosalesforce_logs_in_reads_writes_deletes_by_external_id_and_bulk_loads(
        aiosalesforce: Driver, emu: EmulatorProcess) -> None:
    seed_tasks(emu, 2300, modstamp_from="2026-01-01T00:00:00Z", modstamp_to="2026-01-02T00:00:00Z")
    old = [t["Id"] for t in emu.tasks()][:2]
    since = (emu.clock() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen = aiosalesforce("sync_cycle", delete_ids=old)
    assert seen["sessionSecondsValid"] == 7200
    assert seen["describe"]["name"] == "Task"
    assert seen["full"] == 2300
    assert seen["got"] == "In Progress" and seen["byExternal"] == "aio 2"
    assert seen["upserted"] == [False, True]
    assert seen["gone"] == "ENTITY_IS_DELETED"
    assert seen["bulk"] == [[2, 0], [1, 0], [2, 0]]

    later = aiosalesforce("incremental", since=since)
    # Changed since: AIO-1, AIO-3, AIO-B1, AIO-B2 live; AIO-2 and the two bulk-deleted old tasks deleted.
    assert later == {"changed": 4, "deleted": 3, "all": 2300 + 5, "sessionSecondsValid": 7200}
