"""SPEC §9: very large write volumes go through Bulk API 2.0 instead of hundreds of collection calls."""

from __future__ import annotations

import pytest
from dag_harness import SyncHarness


def test_large_volumes_are_written_with_bulk_api_jobs(harness: SyncHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_CONNECT_SYNC_BULK_THRESHOLD", "2")
    monkeypatch.setenv("SALES_CONNECT_SYNC_BULK_POLL_SECONDS", "0.2")
    rep = harness.rep(0)
    ids = [harness.sc_create(rep, f"Bulk task {i}", description="line one\nline two, with a comma") for i in range(3)]

    harness.emu.reset_counters()
    created = harness.run()
    after_create = harness.emu.counters()["by_resource"]
    for task_id in ids:
        harness.sc_update(rep, task_id, subject=f"Bulk task {task_id} edited", description=None)
    harness.run()
    for task_id in ids[:2]:
        harness.sc_delete(rep, task_id)
    harness.sc_complete(rep, ids[2])
    deleted = harness.run()

    assert created.counts["sc_to_sf"]["create"] == 3
    assert after_create.get("bulk2_ingest", 0) > 0 and after_create.get("collections", 0) == 0
    remaining = harness.sf_tasks(rep.owner_id)
    assert [(t["Subject"], t["Description"], t["Status"]) for t in remaining] == [
        (f"Bulk task {ids[2]} edited", None, "Completed")]
    assert deleted.counts["sc_to_sf"]["delete"] == 2
    assert all(harness.link_of(t) is None for t in ids[:2]) and harness.link_of(ids[2]) is not None
    assert harness.open_errors() == []
