"""SPEC §5: ``getDeleted`` answers ``earliestDateAvailable``, the last deletion Salesforce purged for
good. When an administrator empties the recycle bin (or Salesforce purges a large delete log early)
after the sync's deletion cursor, the deletions in between are gone from ``getDeleted``: the run
falls back to the id reconciliation for the reps it serves and says so in its history."""

from __future__ import annotations

from dag_harness import SyncHarness


def test_deletion_lost_to_an_emptied_recycle_bin_is_removed_through_reconciliation(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    gone = harness.sf_create(rep.owner_id, "deleted, then the bin was emptied")
    harness.sf_create(rep.owner_id, "kept")
    harness.run()
    task = harness.sc_by_subject(rep, "deleted, then the bin was emptied")
    quiet = harness.run()
    assert "reconciliation" not in quiet.counts  # an ordinary run checks no ids

    harness.sf_delete(gone)
    assert harness.emu.empty_recycle_bin() == 1
    history = harness.run()

    assert harness.sc_task(task.id).deleted_at is not None and harness.link_of(task.id) is None
    assert [t.subject for t in harness.sc_tasks(rep)] == ["kept"]
    assert history.counts["sf_to_sc"]["delete"] == 1
    reconciliation = history.counts["reconciliation"]
    assert reconciliation["user_ids"] == [rep.user_id]
    assert "earliestDateAvailable" in reconciliation["reason"]
