"""SPEC §7 conflicts: both sides changed a linked task since the last sync. The later change wins the
whole record (each side's own modification time; a tie goes to Salesforce), values are never mixed,
and the sync history keeps both versions and the rule. Delete against edit: the deletion wins."""

from __future__ import annotations

import datetime as dt
import time

from dag_harness import SyncHarness
from sqlalchemy import text

from task_sync.diff import RULE_DELETE_WINS, RULE_LATEST_WINS, WINNER_SC, WINNER_SF
from task_sync.salesforce import parse_sf_datetime


def _tick() -> None:
    """Let the clocks move on: Salesforce stamps whole seconds, so two edits need a second between them to be
    ordered (a shorter gap is a tie at the precision both sides share)."""
    time.sleep(1.05)


def _linked(harness: SyncHarness, rep, *subjects: str) -> list[tuple[str, int]]:
    """Tasks made in Salesforce and imported by a first run: (Salesforce id, Sales Connect id) each."""
    sf_ids = [harness.sf_create(rep.owner_id, s, Description="agreed", Priority="Normal") for s in subjects]
    harness.run()
    return [(sf_id, harness.sc_by_subject(rep, s).id) for sf_id, s in zip(sf_ids, subjects, strict=True)]


def test_both_sides_edited_the_later_change_wins_the_whole_record_and_both_versions_are_recorded(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    (sc_wins_sf, sc_wins), (sf_wins_sf, sf_wins) = _linked(harness, rep, "pricing call", "contract review")

    harness.sf_update(sc_wins_sf, Subject="pricing call (SF)", Priority="High")
    harness.sf_update(sf_wins_sf, Subject="contract review (SF)", Priority="Low")
    _tick()
    harness.sc_update(rep, sc_wins, subject="pricing call (SC)", description="edited in Sales Connect")
    _tick()
    harness.sc_update(rep, sf_wins, subject="contract review (SC)", description="edited in Sales Connect")
    _tick()
    harness.sf_update(sf_wins_sf, Description="edited in Salesforce")

    history = harness.run()

    assert history.counts["conflicts"] == 2
    # Sales Connect was later on the first task: its whole record reaches Salesforce, Salesforce's
    # own edit (priority High) included in the loss -- no field-by-field mix.
    pushed = harness.sf_task(sc_wins_sf)
    assert (pushed["Subject"], pushed["Description"], pushed["Priority"]) == (
        "pricing call (SC)", "edited in Sales Connect", "Normal")
    kept = harness.sc_task(sc_wins)
    assert (kept.subject, kept.description, kept.priority) == ("pricing call (SC)", "edited in Sales Connect", "normal")
    # Salesforce was later on the second task: Sales Connect's edit is replaced as a whole.
    pulled = harness.sc_task(sf_wins)
    assert (pulled.subject, pulled.description, pulled.priority) == (
        "contract review (SF)", "edited in Salesforce", "low")
    untouched = harness.sf_task(sf_wins_sf)
    assert (untouched["Subject"], untouched["Description"]) == ("contract review (SF)", "edited in Salesforce")

    by_task = {c.task_id: c for c in harness.conflicts()}
    first, second = by_task[sc_wins], by_task[sf_wins]
    assert (first.winner, first.rule, first.sf_id, first.user_id) == (WINNER_SC, RULE_LATEST_WINS, sc_wins_sf,
                                                                     rep.user_id)
    assert first.sc_version["subject"] == "pricing call (SC)" and first.sc_version["priority"] == "normal"
    assert first.sf_version["subject"] == "pricing call (SF)" and first.sf_version["priority"] == "High"
    assert first.sc_modified_at > first.sf_modified_at
    assert (second.winner, second.rule) == (WINNER_SF, RULE_LATEST_WINS)
    assert second.sc_version["description"] == "edited in Sales Connect"
    assert second.sf_version["description"] == "edited in Salesforce"
    assert second.sf_modified_at == parse_sf_datetime(untouched["LastModifiedDate"])


def test_edits_in_the_same_second_tie_to_salesforce_at_the_precision_both_sides_share(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    [(sf_id, task_id)] = _linked(harness, rep, "quarterly review")
    harness.sc_update(rep, task_id, subject="quarterly review (SC)")
    harness.sf_update(sf_id, Subject="quarterly review (SF)")
    sf_modified = parse_sf_datetime(harness.sf_task(sf_id)["LastModifiedDate"])
    assert sf_modified.microsecond == 0  # Salesforce stamps whole seconds
    # The rep saved later in that very second: Sales Connect keeps the microseconds, Salesforce cannot.
    sc_saved = sf_modified.replace(microsecond=999_000)
    with harness.store.session() as s:
        s.execute(text("UPDATE tasks SET updated_at = :at WHERE id = :id"), {"at": sc_saved, "id": task_id})

    history = harness.run()

    assert history.counts["conflicts"] == 1
    assert harness.sc_task(task_id).subject == "quarterly review (SF)"
    assert harness.sf_task(sf_id)["Subject"] == "quarterly review (SF)"
    [conflict] = harness.conflicts()
    assert (conflict.winner, conflict.rule) == (WINNER_SF, RULE_LATEST_WINS)
    assert (conflict.sc_modified_at, conflict.sf_modified_at) == (sc_saved, sf_modified)


def test_a_salesforce_edit_in_the_second_already_synced_is_not_lost(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    [(sf_id, task_id)] = _linked(harness, rep, "renewal call")
    synced_stamp = parse_sf_datetime(harness.sf_task(sf_id)["SystemModstamp"])
    assert harness.link_of(task_id).sf_modstamp == synced_stamp
    # Someone saves again within the second the sync already read (the clock stands at that second).
    harness.emu.set_clock(synced_stamp + dt.timedelta(milliseconds=400))
    harness.sf_update(sf_id, Subject="renewal call (moved to Friday)")
    assert parse_sf_datetime(harness.sf_task(sf_id)["SystemModstamp"]) == synced_stamp
    harness.emu.set_clock(dt.datetime.now(dt.UTC))

    history = harness.run()

    assert history.counts["sf_to_sc"]["update"] == 1
    assert harness.sc_task(task_id).subject == "renewal call (moved to Friday)"
    assert harness.run().counts["sf_to_sc"]["update"] == 0  # and it is not read as a change again


def test_delete_against_edit_is_a_conflict_the_deletion_wins_both_ways(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    (sf_deleted_sf, sf_deleted), (sc_deleted_sf, sc_deleted) = _linked(harness, rep, "demo prep", "send recap")

    harness.sc_update(rep, sf_deleted, subject="demo prep (edited)", priority="high")
    harness.sf_delete(sf_deleted_sf)
    harness.sf_update(sc_deleted_sf, Subject="send recap (edited)", Priority="Low")
    harness.sc_delete(rep, sc_deleted)

    history = harness.run()

    assert history.counts["conflicts"] == 2
    assert history.counts["sf_to_sc"]["delete"] == 1 and history.counts["sc_to_sf"]["delete"] == 1
    assert {t.subject for t in harness.sc_tasks(rep)} == set()
    assert harness.sf_row(sf_deleted_sf)["IsDeleted"] is True
    assert harness.sf_row(sc_deleted_sf)["IsDeleted"] is True  # Salesforce's edit lost; restorable from the bin
    by_task = {c.task_id: c for c in harness.conflicts()}
    sf_won, sc_won = by_task[sf_deleted], by_task[sc_deleted]
    assert (sf_won.winner, sf_won.rule) == (WINNER_SF, RULE_DELETE_WINS)
    assert sf_won.sc_version["subject"] == "demo prep (edited)" and sf_won.sc_version["priority"] == "high"
    assert "deleted_at" in sf_won.sf_version
    assert (sc_won.winner, sc_won.rule) == (WINNER_SC, RULE_DELETE_WINS)
    assert sc_won.sf_version["subject"] == "send recap (edited)" and sc_won.sf_version["priority"] == "Low"
    assert "deleted_at" in sc_won.sc_version
