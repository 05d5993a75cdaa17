"""SPEC §7 echo suppression and idempotency, §9 cost: what the sync wrote is not read back as a change,
a run with nothing to do writes nothing and costs a constant handful of calls, and running a window
again never duplicates a record or rolls one back."""

from __future__ import annotations

from collections import Counter

from dag_harness import SyncHarness

from task_sync.salesforce import CLIENT_NAME

WRITE_RESOURCES = ("collections", "sobject", "bulk", "bulk2_ingest")
NO_WRITES = {"create": 0, "update": 0, "complete": 0, "delete": 0}


def _calls(harness: SyncHarness) -> Counter[str]:
    return Counter(harness.emu.counters()["by_resource"])


def _traffic(harness: SyncHarness) -> None:
    """Two reps with changes both ways, synced: every record now has a sync-written version on one side."""
    for index in (0, 1):
        rep = harness.rep(index)
        harness.sf_create(rep.owner_id, f"from Salesforce {index}", Status="In Progress")
        done = harness.sc_create(rep, f"from Sales Connect {index}")
        harness.sc_complete(rep, done)


def test_a_run_after_a_sync_writes_nothing_either_side_and_costs_a_constant_handful_of_calls(
    harness: SyncHarness,
) -> None:
    _traffic(harness)
    first = harness.run()
    assert first.counts["sf_to_sc"]["create"] == 2 and first.counts["sc_to_sf"]["create"] == 2

    before = _calls(harness)
    echo_run = harness.run()  # reads back what the first run wrote on both sides
    during = _calls(harness) - before

    assert echo_run.counts["sf_to_sc"] == NO_WRITES and echo_run.counts["sc_to_sf"] == NO_WRITES
    assert echo_run.counts["conflicts"] == 0 and echo_run.counts["echoes_skipped"] >= 2
    assert not any(during[r] for r in WRITE_RESOURCES), during
    # limits (server time) + getDeleted + getUpdated + one query per shard, whatever the number of tasks.
    assert echo_run.api_calls == sum(during.values()) <= 5, during

    before = _calls(harness)
    quiet = harness.run()
    assert quiet.counts["echoes_skipped"] == 0 and quiet.api_calls == sum((_calls(harness) - before).values())
    assert quiet.api_calls == echo_run.api_calls


def test_records_the_sync_wrote_carry_its_client_name_in_salesforce(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    mine = harness.sf_create(rep.owner_id, "made by the rep in Salesforce")
    pushed = harness.sc_create(rep, "made in Sales Connect")
    edited = harness.sc_create(rep, "to be edited")
    harness.run()
    harness.sc_update(rep, edited, subject="edited in Sales Connect")
    harness.run()

    clients = {row["Id"]: row["LastWriteClient"] for row in harness.emu.tasks()}
    assert clients[harness.link_of(pushed).sf_id] == CLIENT_NAME
    assert clients[harness.link_of(edited).sf_id] == CLIENT_NAME
    assert clients[mine] != CLIENT_NAME


def test_running_a_window_again_never_duplicates_or_rolls_back(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    imported_sf = harness.sf_create(rep.owner_id, "v1 from Salesforce")
    pushed = harness.sc_create(rep, "v1 from Sales Connect")
    harness.run()
    imported = harness.sc_by_subject(rep, "v1 from Salesforce").id
    pushed_sf = harness.link_of(pushed).sf_id

    harness.sf_update(imported_sf, Subject="v2 from Salesforce")
    harness.sf_update(pushed_sf, Description="v2 added in Salesforce")
    subset = harness.run(user_ids=[rep.user_id])  # a manual run for one rep: it does not move watermarks
    assert subset.counts["sf_to_sc"]["update"] == 2
    harness.sc_update(rep, imported, subject="v3 from Sales Connect")

    replay = harness.run()  # reads the same window again, now with a newer Sales Connect edit on top
    again = harness.run()

    assert replay.counts["sf_to_sc"] == NO_WRITES and replay.counts["sc_to_sf"]["update"] == 1
    assert again.counts["sf_to_sc"] == NO_WRITES and again.counts["sc_to_sf"] == NO_WRITES
    assert sorted(t.subject for t in harness.sc_tasks(rep)) == ["v1 from Sales Connect", "v3 from Sales Connect"]
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == [
        "v1 from Sales Connect", "v3 from Sales Connect"]
    assert harness.sc_task(pushed).description == "v2 added in Salesforce"
    assert harness.sf_task(pushed_sf)["Description"] == "v2 added in Salesforce"
