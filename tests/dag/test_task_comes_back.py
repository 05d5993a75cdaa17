"""Issue 10 #2 / SPEC §4, §7: a task that comes back to a rep in Salesforce is back in their list.

A task the sync removed from a rep's list because Salesforce took it away (reassigned to another
rep or to a user the sync does not serve, deleted in Salesforce) and that Salesforce gives back
(reassigned back, an upsert on ``Sales_Connect_Id__c`` as Data Loader restores) is re-linked to
the rep's own Sales Connect row, which must be live again and shown in the Command Center. A row
the rep deleted themselves stays deleted: their deletion wins over the restore (delete-wins).
"""

from __future__ import annotations

import time

from dag_harness import Rep, SyncHarness, now

from task_sync.diff import RULE_DELETE_WINS, WINNER_SC


def _pushed(harness: SyncHarness, rep: Rep, subject: str) -> tuple[int, str]:
    """A task the rep created in Sales Connect, due today, pushed to Salesforce by a run."""
    task_id = harness.sc_create(rep, subject, due_date=now().date())
    harness.run()
    link = harness.link_of(task_id)
    assert link is not None
    return task_id, link.sf_id


def _assert_back(harness: SyncHarness, rep: Rep, task_id: int, sf_id: str) -> None:
    task = harness.sc_task(task_id)
    assert task.deleted_at is None, "the rep's task came back in Salesforce but stays deleted in Sales Connect"
    assert harness.link_of(task_id).sf_id == sf_id
    assert [t.id for t in harness.command_center(rep, now())] == [task_id]
    assert [t.id for t in harness.sc_tasks(rep)] == [task_id]  # the same row, no duplicate


def _reassign(harness: SyncHarness, sf_id: str, owner: str) -> None:
    time.sleep(1.05)  # a later Salesforce second than the last write
    harness.sf_update(sf_id, OwnerId=owner)


def test_a_task_reassigned_to_another_rep_and_back_is_back_in_the_first_reps_list(harness: SyncHarness) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    task_id, sf_id = _pushed(harness, ava, "renewal call")

    _reassign(harness, sf_id, ben.owner_id)
    harness.run()
    assert harness.sc_task(task_id).deleted_at is not None
    assert [t.subject for t in harness.sc_tasks(ben)] == ["renewal call"]

    _reassign(harness, sf_id, ava.owner_id)
    history = harness.run()

    _assert_back(harness, ava, task_id, sf_id)
    assert harness.sc_tasks(ben) == []
    assert history.counts["sf_to_sc"]["create"] == 1


def test_a_task_handed_to_an_unsynced_user_and_back_is_back_in_the_reps_list(harness: SyncHarness) -> None:
    ava = harness.rep(0)
    task_id, sf_id = _pushed(harness, ava, "quote follow-up")

    _reassign(harness, sf_id, harness.owner_of(2))  # a Salesforce user with no Sales Connect account
    harness.emu.advance_clock(61)  # getUpdated, which finds the hand-over, answers whole past minutes only
    harness.run()
    assert harness.sc_tasks(ava) == []

    _reassign(harness, sf_id, ava.owner_id)
    harness.run()

    _assert_back(harness, ava, task_id, sf_id)


def _restore_by_upsert(harness: SyncHarness, deleted_sf_id: str) -> str:
    """What Data Loader does: upsert the deleted record's values on its external id (a new record)."""
    old = harness.sf_row(deleted_sf_id)
    time.sleep(1.05)
    harness.sf.Task.upsert(f"Sales_Connect_Id__c/{old['Sales_Connect_Id__c']}", {
        "Subject": old["Subject"], "ActivityDate": old["ActivityDate"], "Status": old["Status"],
        "OwnerId": old["OwnerId"],
    })
    [restored] = [t for t in harness.sf_tasks(old["OwnerId"])
                  if t["Sales_Connect_Id__c"] == old["Sales_Connect_Id__c"]]
    assert restored["Id"] != deleted_sf_id
    return restored["Id"]


def test_a_task_deleted_in_salesforce_and_restored_by_an_upsert_is_back_in_the_reps_list(
    harness: SyncHarness,
) -> None:
    ava = harness.rep(0)
    task_id, sf_id = _pushed(harness, ava, "demo prep")
    harness.sf_delete(sf_id)
    harness.run()
    assert harness.sc_tasks(ava) == []

    restored = _restore_by_upsert(harness, sf_id)
    harness.run()

    _assert_back(harness, ava, task_id, restored)


def test_a_task_the_rep_deleted_stays_deleted_when_an_upsert_restores_it_in_salesforce(
    harness: SyncHarness,
) -> None:
    ava = harness.rep(0)
    task_id, sf_id = _pushed(harness, ava, "cold lead")
    harness.sc_delete(ava, task_id)
    harness.run()
    assert harness.sf_row(sf_id)["IsDeleted"] is True

    restored = _restore_by_upsert(harness, sf_id)
    history = harness.run()

    assert harness.sc_task(task_id).deleted_at is not None and harness.sc_tasks(ava) == []
    assert harness.sf_row(restored)["IsDeleted"] is True  # the rep's deletion wins, again in Salesforce
    [conflict] = harness.conflicts()
    assert (conflict.task_id, conflict.sf_id, conflict.winner, conflict.rule) == (
        task_id, restored, WINNER_SC, RULE_DELETE_WINS)
    assert conflict.sf_version["subject"] == "cold lead"
    assert history.counts["sc_to_sf"]["delete"] == 1
    harness.run()
    assert len(harness.conflicts()) == 1 and harness.sc_tasks(ava) == []
