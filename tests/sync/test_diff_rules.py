"""The diff's rules (SPEC §3, §4, §7), one test per rule, on inputs shaped like the real extracts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sync_world import AGREED_SC, AGREED_SF, ENABLED_AT, NOW, World, ext_id, only, owner_id, sf_id, sf_time

from task_sync import diff, fields


def sf_ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["sf_id"])


# --------------------------------------------------------------------------- SPEC §3: first sync


def test_first_sync_imports_only_last_24_hours(world: World) -> None:
    world.user(1)
    world.sf_task(1, modified=ENABLED_AT - dt.timedelta(hours=23))
    world.sf_task(2, modified=ENABLED_AT - dt.timedelta(hours=24))  # exactly on the floor: imported
    world.sf_task(3, modified=ENABLED_AT - dt.timedelta(hours=24, seconds=1))
    world.sf_task(4, modified=ENABLED_AT - dt.timedelta(days=30))
    world.sf_task(5, modified=NOW - dt.timedelta(minutes=5))
    plan = world.plan()
    assert sf_ids(plan.sf_to_sc.creates) == {sf_id(1), sf_id(2), sf_id(5)}
    skipped = plan.unchanged[plan.unchanged["reason"] == "before_import_window"]
    assert sf_ids(skipped) == {sf_id(3), sf_id(4)}


def test_old_salesforce_task_modified_after_enable_is_imported(world: World) -> None:
    world.user(1)
    world.sf_task(1, modified=NOW - dt.timedelta(minutes=1), CreatedDate=sf_time(ENABLED_AT - dt.timedelta(days=90)))
    assert sf_ids(world.plan().sf_to_sc.creates) == {sf_id(1)}


def test_import_carries_full_mapping_and_link_state(world: World) -> None:
    world.user(1)
    world.sf_task(1, Status="In Progress", Priority="High", Type="Meeting", Description="agenda",
                  ReminderDateTime="2026-11-26T08:30:00.000+0000", IsReminderSet=True)
    row = only(world.plan().sf_to_sc.creates)
    assert row["user_id"] == 1
    assert row["sc_fields"] == {
        "subject": "Call Bob", "description": "agenda", "due_date": dt.date(2026, 11, 26), "status": "open",
        "completed_at": None, "priority": "high", "task_type": "meeting",
        "reminder_at": dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC),
    }
    assert row["sf_values"]["status"] == "In Progress"
    assert row["sf_values"][fields.OPEN_STATUS_KEY] == "In Progress"
    assert row["sf_hash"] == fields.content_hash(row["sf_values"])
    assert row["sc_hash"] == fields.content_hash(row["sc_values"])


def test_preexisting_sc_task_never_pushed_even_after_edit(world: World) -> None:
    world.user(1)
    world.sc_task(10, created=ENABLED_AT - dt.timedelta(days=3), updated=NOW - dt.timedelta(minutes=1),
                  subject="edited today", seq=99)
    world.sc_task(11, created=ENABLED_AT)  # not *after* enabled_at
    plan = world.plan()
    assert plan.sc_to_sf.creates.empty
    assert set(plan.skipped_preexisting["task_id"]) == {10, 11}


def test_sc_task_created_after_enable_is_pushed_by_external_id(world: World) -> None:
    world.user(1)
    world.sc_task(10, created=ENABLED_AT + dt.timedelta(seconds=1), status="completed", priority="low",
                  task_type="todo", reminder_at=dt.datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=dt.UTC))
    row = only(world.plan().sc_to_sf.creates)
    assert row["sf_fields"] == {
        "Subject": "Call Bob", "Description": None, "ActivityDate": "2026-11-26", "Status": "Completed",
        "Priority": "Low", "Type": None, "ReminderDateTime": "2026-11-26T09:00:00Z", "IsReminderSet": True,
        "OwnerId": owner_id(1), fields.EXTERNAL_ID_FIELD: ext_id(10),
    }
    assert row["sc_seq"] == 10


# --------------------------------------------------------------------------- isolation and switch-off


def test_records_reach_only_their_owners_list(world: World) -> None:
    world.user(1)
    world.user(2)
    world.sf_task(1, owner=1)
    world.sf_task(2, owner=2)
    world.sc_task(10, user_id=1)
    world.sc_task(20, user_id=2)
    plan = world.plan()
    imported = dict(zip(plan.sf_to_sc.creates["sf_id"], plan.sf_to_sc.creates["user_id"], strict=True))
    assert imported == {sf_id(1): 1, sf_id(2): 2}
    pushed = dict(zip(plan.sc_to_sf.creates["task_id"], plan.sc_to_sf.creates["owner_id"], strict=True))
    assert pushed == {10: owner_id(1), 20: owner_id(2)}


def test_owner_not_mapped_is_quarantined_not_imported(world: World) -> None:
    world.user(1)
    world.sf_task(1, owner=7)
    plan = world.plan()
    assert plan.sf_to_sc.creates.empty
    row = only(plan.quarantined)
    assert row["error_code"] == "SF_OWNER_NOT_MAPPED"
    assert owner_id(7) in row["message"]
    assert row["direction"] == "sf_to_sc"


def test_owner_id_match_is_exact(world: World) -> None:
    world.user(1)
    world.users[0]["sf_owner_id"] = "005000000000ABCAAA"
    world.sf_task(1, OwnerId="005000000000abcAAA")
    assert only(world.plan().quarantined)["error_code"] == "SF_OWNER_NOT_MAPPED"


def test_sync_off_means_no_traffic_either_direction(world: World) -> None:
    world.user(1, enabled=False)
    world.sf_task(1)
    world.sf_task(2, Subject="edit")
    world.link(20, 2)
    world.sc_task(10)
    world.sc_task(20, subject="edit", seq=30)
    world.sf_gone(3)
    world.link(30, 3)
    plan = world.plan()
    for direction in (plan.sf_to_sc, plan.sc_to_sf):
        assert direction.counts() == {"create": 0, "update": 0, "complete": 0, "delete": 0}
    assert set(plan.unchanged["reason"]) == {"sync_disabled"}
    assert len(plan.unchanged) == 5


def test_owner_change_moves_task_to_new_owner(world: World) -> None:
    world.user(1)
    world.user(2)
    world.link(10, 1, user_id=1)
    world.sf_task(1, owner=2)
    world.sc_task(10, user_id=1, subject="edited by old owner", seq=20)
    plan = world.plan()
    gone = only(plan.sf_to_sc.deletions)
    assert (gone["task_id"], gone["user_id"], gone["reason"]) == (10, 1, "owner_changed")
    created = only(plan.sf_to_sc.creates)
    assert (created["sf_id"], created["user_id"]) == (sf_id(1), 2)
    assert plan.sc_to_sf.updates.empty  # the old owner's edit never lands on the new owner's record


# --------------------------------------------------------------------------- SPEC §4: steady state


def test_salesforce_edit_updates_only_changed_fields(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Subject="Call Bob again", Priority="High")
    row = only(world.plan().sf_to_sc.updates)
    assert row["sc_fields"] == {"subject": "Call Bob again", "priority": "high"}
    assert (row["task_id"], row["expected_sc_seq"]) == (10, 5)
    assert row["sc_values"] == {**AGREED_SC, "subject": "Call Bob again", "priority": "high"}


def test_sc_subject_edit_does_not_overwrite_in_progress(world: World) -> None:
    world.user(1)
    world.link(10, 1, sf_values={**AGREED_SF, "status": "In Progress"})
    world.sc_task(10, subject="New subject", seq=20)
    row = only(world.plan().sc_to_sf.updates)
    assert row["sf_fields"] == {"Subject": "New subject"}
    assert row["sf_values"]["status"] == "In Progress"


def test_salesforce_status_word_change_only_refreshes_link(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Status="Waiting on someone else")
    plan = world.plan()
    assert plan.sf_to_sc.counts() == {"create": 0, "update": 0, "complete": 0, "delete": 0}
    row = only(plan.link_refreshes)
    assert row["reason"] == "no_mapped_change"
    assert row["sf_values"]["status"] == "Waiting on someone else"
    assert row["sc_values"] is None  # Sales Connect side untouched


def test_completion_counted_apart_in_both_directions(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Status="Completed", IsClosed=True, CompletedDateTime="2026-11-25T11:00:00.000+0000")
    world.link(20, 2)
    world.sc_task(20, status="completed", completed_at=NOW, seq=30)
    plan = world.plan()
    assert plan.sf_to_sc.counts()["complete"] == 1 and plan.sf_to_sc.counts()["update"] == 0
    assert only(plan.sf_to_sc.completions)["sc_fields"] == {
        "status": "completed", "completed_at": dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)}
    assert plan.sc_to_sf.counts()["complete"] == 1
    assert only(plan.sc_to_sf.completions)["sf_fields"] == {"Status": "Completed"}


def test_reopen_in_salesforce_is_an_update(world: World) -> None:
    world.user(1)
    world.link(10, 1, sf_values={**AGREED_SF, "status": "Completed", fields.OPEN_STATUS_KEY: "In Progress"},
               sc_values={**AGREED_SC, "status": "completed"})
    world.sf_task(1, Status="In Progress")
    plan = world.plan()
    assert only(plan.sf_to_sc.updates)["sc_fields"] == {"status": "open", "completed_at": None}
    assert plan.sf_to_sc.completions.empty


def test_sc_reopen_sends_last_salesforce_open_status(world: World) -> None:
    world.user(1)
    world.link(10, 1, sf_values={**AGREED_SF, "status": "Completed", fields.OPEN_STATUS_KEY: "Deferred"},
               sc_values={**AGREED_SC, "status": "completed"})
    world.sc_task(10, status="open", seq=20)
    assert only(world.plan().sc_to_sf.updates)["sf_fields"] == {"Status": "Deferred"}


def test_sc_reopen_without_history_sends_not_started(world: World) -> None:
    world.user(1)
    world.link(10, 1, sf_values={**AGREED_SF, "status": "Completed"}, sc_values={**AGREED_SC, "status": "completed"})
    world.sc_task(10, status="open", seq=20)
    assert only(world.plan().sc_to_sf.updates)["sf_fields"] == {"Status": "Not Started"}


def test_field_only_one_side_has_is_left_alone(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Subject="x", WhoId="003000000000000001", WhatId="001000000000000001", TaskSubtype="Call")
    world.link(20, 2, sc_values={**AGREED_SC, "task_type": "todo"}, sf_values={**AGREED_SF, "task_type": None})
    world.sc_task(20, task_type="todo", subject="y", version=7, seq=20)
    plan = world.plan()
    assert set(only(plan.sf_to_sc.updates)["sc_fields"]) == {"subject"}
    assert only(plan.sc_to_sf.updates)["sf_fields"] == {"Subject": "y"}


def test_reminder_set_and_cleared(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sc_task(10, reminder_at=dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC), seq=20)
    world.link(20, 2, sf_values={**AGREED_SF, "reminder_at": "2026-11-26T08:00:00Z"},
               sc_values={**AGREED_SC, "reminder_at": "2026-11-26T08:00:00Z"})
    world.sf_task(2, ReminderDateTime="2026-11-26T08:00:00.000+0000", IsReminderSet=False)
    plan = world.plan()
    assert only(plan.sc_to_sf.updates)["sf_fields"] == {"ReminderDateTime": "2026-11-26T08:00:00Z",
                                                         "IsReminderSet": True}
    assert only(plan.sf_to_sc.updates)["sc_fields"] == {"reminder_at": None}


# --------------------------------------------------------------------------- deletions (SPEC §4, §5)


def test_salesforce_deletion_tombstones_sc_task_from_every_source(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, IsDeleted=True)  # queryAll row
    world.link(20, 2)
    world.sf_gone(2)  # getDeleted
    world.link(30, 3)
    world.deleted.append({"sf_id": sf_id(3), "deleted_at": None})  # reconciliation: missing, time unknown
    world.sf_gone(4)  # never linked: nothing to do
    plan = world.plan()
    assert set(plan.sf_to_sc.deletions["task_id"]) == {10, 20, 30}
    assert set(plan.sf_to_sc.deletions["reason"]) == {"deleted"}
    assert plan.sf_to_sc.creates.empty


def test_deleted_salesforce_record_with_bad_fields_still_deletes(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, IsDeleted=True, Status="Bogus", Subject=None)
    plan = world.plan()
    assert set(plan.sf_to_sc.deletions["task_id"]) == {10}
    assert plan.quarantined.empty


def test_sc_tombstone_deletes_in_salesforce(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sc_task(10, deleted_at=NOW - dt.timedelta(minutes=3), seq=20)
    world.sc_task(11, deleted_at=NOW - dt.timedelta(minutes=3), seq=21)  # never pushed
    plan = world.plan()
    row = only(plan.sc_to_sf.deletions)
    assert (row["task_id"], row["sf_id"], row["sc_seq"]) == (10, sf_id(1), 20)
    assert plan.sc_to_sf.creates.empty


# --------------------------------------------------------------------------- SPEC §7: idempotency, echoes


def test_stale_salesforce_version_is_ignored(world: World) -> None:
    world.user(1)
    world.link(10, 1, sf_modstamp=NOW)
    world.sf_task(1, Subject="older", modified=NOW - dt.timedelta(minutes=1))
    world.link(20, 2, sf_modstamp=NOW)
    world.sf_task(2, modified=NOW)  # the agreed version itself, read again
    plan = world.plan()
    assert plan.sf_to_sc.updates.empty
    assert list(plan.unchanged["reason"]) == ["stale", "stale"]


def test_a_salesforce_save_in_the_second_already_synced_is_an_edit(world: World) -> None:
    """Salesforce stamps whole seconds: a second save in the synced second carries the synced stamp."""
    world.user(1)
    world.link(20, 2, sf_modstamp=NOW)
    world.sf_task(2, Subject="saved again in that second", modified=NOW)
    plan = world.plan()
    assert only(plan.sf_to_sc.updates)["sc_fields"] == {"subject": "saved again in that second"}
    assert plan.unchanged.empty


def test_stale_sc_version_is_ignored(world: World) -> None:
    world.user(1)
    world.link(10, 1, sc_seq=50)
    world.sc_task(10, subject="older", seq=40)
    plan = world.plan()
    assert plan.sc_to_sf.updates.empty
    assert only(plan.unchanged)["reason"] == "stale"


def test_echo_suppressed_by_hash_alone(world: World) -> None:
    world.user(1)
    # Salesforce: a newer stamp, same content as agreed (our own write read back).
    world.link(10, 1, sf_modstamp=NOW - dt.timedelta(hours=5))
    world.sf_task(1)
    # Sales Connect: a *user* change with a newer seq but the agreed content.
    world.link(20, 2, sc_seq=5)
    world.sc_task(20, seq=6, changed_by="user")
    plan = world.plan()
    assert plan.sf_to_sc.updates.empty and plan.sc_to_sf.updates.empty
    assert set(zip(plan.echoes_skipped["side"], plan.echoes_skipped["guard"], strict=True)) == {
        ("salesforce", "content_hash"), ("sales_connect", "content_hash")}
    refresh = plan.link_refreshes.set_index("task_id")
    assert refresh.loc[10, "sf_modstamp"] == "2026-11-25T11:00:00+00:00"
    assert refresh.loc[20, "sc_seq"] == 6


def test_echo_suppressed_by_sync_change_seq_alone(world: World) -> None:
    world.user(1)
    link = world.link(10, 1, sc_seq=7)
    link["sc_hash"] = "0" * 64  # the hash guard cannot match
    world.sc_task(10, subject="written by sync", seq=7, changed_by="sync")
    plan = world.plan()
    assert plan.sc_to_sf.updates.empty
    row = only(plan.echoes_skipped)
    assert (row["side"], row["guard"]) == ("sales_connect", "sync_change_seq")


def test_sync_marked_change_with_new_seq_is_not_an_echo(world: World) -> None:
    world.user(1)
    world.link(10, 1, sc_seq=7)
    world.sc_task(10, subject="user edit after our write", seq=8, changed_by="sync")
    assert only(world.plan().sc_to_sf.updates)["sf_fields"] == {"Subject": "user edit after our write"}


def test_overlapping_windows_returning_a_record_twice_keep_the_newest(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Subject="newer", modified=NOW - dt.timedelta(minutes=1))
    world.sf_task(1, Subject="older", modified=NOW - dt.timedelta(minutes=30))
    world.link(20, 2)
    world.sc_task(20, subject="sc newer", seq=30)
    world.sc_task(20, subject="sc older", seq=25)
    plan = world.plan()
    assert only(plan.sf_to_sc.updates)["sc_fields"] == {"subject": "newer"}
    assert only(plan.sc_to_sf.updates)["sf_fields"] == {"Subject": "sc newer"}


def test_replaying_a_window_after_load_writes_nothing(world: World) -> None:
    """Apply a plan's link state the way the loader does, then re-run the same window."""
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Subject="from salesforce")
    world.link(20, 2)
    world.sc_task(20, subject="from sales connect", seq=30)
    first = world.plan()
    sf_update, sc_update = only(first.sf_to_sc.updates), only(first.sc_to_sf.updates)

    replay = World()
    replay.users, replay.sf = world.users, world.sf
    link10 = replay.link(10, 1, sf_modstamp=dt.datetime.fromisoformat(sf_update["sf_modstamp"]), sc_seq=31,
                         sf_values=sf_update["sf_values"], sc_values=sf_update["sc_values"])
    assert link10["sc_hash"] == sf_update["sc_hash"]
    replay.sc_task(10, subject="from salesforce", seq=31, changed_by="sync")  # our own write, read back
    replay.link(20, 2, sc_seq=30, sf_values=sc_update["sf_values"], sc_values=sc_update["sc_values"])
    replay.sf_task(2, Subject="from sales connect", modified=NOW)  # our own write, read back from Salesforce
    replay.sc_task(20, subject="from sales connect", seq=30)
    plan = replay.plan()
    for direction in (plan.sf_to_sc, plan.sc_to_sf):
        assert direction.counts() == {"create": 0, "update": 0, "complete": 0, "delete": 0}
    assert plan.conflicts.empty
    assert len(plan.echoes_skipped) == 2


# --------------------------------------------------------------------------- SPEC §7: conflicts


def _both_edited(world: World, sf_when: dt.datetime, sc_when: dt.datetime) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Subject="sf subject", modified=sf_when)
    world.sc_task(10, priority="high", seq=20, updated=sc_when)


def test_conflict_latest_wins_ties_to_salesforce(world: World) -> None:
    t = NOW - dt.timedelta(minutes=10)
    cases = {"salesforce later": (t, t - dt.timedelta(seconds=1), "salesforce"),
             "sales connect later": (t - dt.timedelta(seconds=1), t, "sales_connect"),
             "tie": (t, t, "salesforce")}
    for label, (sf_when, sc_when, winner) in cases.items():
        w = World()
        _both_edited(w, sf_when, sc_when)
        conflict = only(w.plan().conflicts)
        assert conflict["winner"] == winner, label
        assert conflict["rule"] == diff.RULE_LATEST_WINS


def test_conflict_never_mixes_fields_and_keeps_both_versions(world: World) -> None:
    t = NOW - dt.timedelta(minutes=10)
    _both_edited(world, sf_when=t, sc_when=t + dt.timedelta(seconds=5))
    plan = world.plan()
    conflict = only(plan.conflicts)
    assert conflict["sf_version"] == {**AGREED_SF, "subject": "sf subject"}
    assert conflict["sc_version"] == {**AGREED_SC, "priority": "high"}
    assert conflict["sc_modified_at"] == (t + dt.timedelta(seconds=5)).isoformat()
    # Sales Connect won: Salesforce gets Sales Connect's whole record back, its own subject edit undone.
    assert only(plan.sc_to_sf.updates)["sf_fields"] == {"Subject": "Call Bob", "Priority": "High"}
    assert plan.sf_to_sc.updates.empty


def test_conflict_won_by_salesforce_overwrites_whole_sc_record(world: World) -> None:
    t = NOW - dt.timedelta(minutes=10)
    _both_edited(world, sf_when=t, sc_when=t - dt.timedelta(seconds=5))
    plan = world.plan()
    row = only(plan.sf_to_sc.updates)
    assert row["sc_fields"] == {"subject": "sf subject", "priority": "normal"}
    assert row["expected_sc_seq"] == 20  # the version of the losing Sales Connect edit
    assert row["reason"] == "conflict_won"


def test_edits_that_agree_are_not_a_conflict(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_task(1, Subject="same", Status="In Progress")
    world.sc_task(10, subject="same", seq=20)
    plan = world.plan()
    assert plan.conflicts.empty
    assert plan.sf_to_sc.updates.empty and plan.sc_to_sf.updates.empty
    row = only(plan.link_refreshes)
    assert row["reason"] == "converged" and row["sf_values"]["status"] == "In Progress"


def test_delete_against_edit_delete_wins(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_gone(1)
    world.sc_task(10, subject="edited in sc", seq=20, updated=NOW)
    world.link(20, 2)
    world.sf_task(2, Subject="edited in sf", modified=NOW)
    world.sc_task(20, deleted_at=NOW - dt.timedelta(hours=1), seq=21)
    plan = world.plan()
    conflicts = plan.conflicts.set_index("task_id")
    assert set(conflicts["rule"]) == {diff.RULE_DELETE_WINS}
    assert conflicts.loc[10, "winner"] == "salesforce"
    assert conflicts.loc[10, "sc_version"]["subject"] == "edited in sc"  # the losing edit is kept
    assert conflicts.loc[10, "sf_version"] == {"deleted_at": "2026-11-25T11:30:00+00:00"}
    assert conflicts.loc[20, "winner"] == "sales_connect"
    assert conflicts.loc[20, "sf_version"]["subject"] == "edited in sf"
    assert only(plan.sf_to_sc.deletions)["task_id"] == 10
    assert only(plan.sc_to_sf.deletions)["task_id"] == 20
    assert plan.sf_to_sc.updates.empty and plan.sc_to_sf.updates.empty


def test_deleted_on_both_sides_is_nothing_to_do(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_gone(1)
    world.sc_task(10, deleted_at=NOW, seq=20)
    plan = world.plan()
    assert plan.conflicts.empty and plan.sf_to_sc.deletions.empty and plan.sc_to_sf.deletions.empty
    assert only(plan.unchanged)["reason"] == "deleted_both_sides"


# --------------------------------------------------------------------------- lost links, bad records


def test_unlinked_record_carrying_our_external_id_is_adopted_not_duplicated(world: World) -> None:
    world.user(1)
    world.sf_task(1, Sales_Connect_Id__c=ext_id(10), modified=ENABLED_AT - dt.timedelta(days=5))
    row = only(world.plan().sf_to_sc.creates)
    assert row["sales_connect_id"] == "10"


@pytest.mark.parametrize("value", ["10", "other-install:10", "sc-test:ten"])
def test_an_external_id_outside_our_namespace_names_no_task_of_ours(world: World, value: str) -> None:
    world.user(1)
    world.sf_task(1, Sales_Connect_Id__c=value)
    row = only(world.plan().sf_to_sc.creates)
    assert row["sales_connect_id"] is None


def test_record_being_pushed_in_the_same_plan_is_not_imported_back(world: World) -> None:
    world.user(1)
    world.sf_task(1, Sales_Connect_Id__c=ext_id(10))
    world.sc_task(10)
    plan = world.plan()
    assert plan.sf_to_sc.creates.empty
    assert only(plan.sc_to_sf.creates)["task_id"] == 10
    assert only(plan.unchanged)["reason"] == "awaiting_sc_push"


def test_one_bad_record_does_not_block_the_others(world: World) -> None:
    world.user(1)
    world.sf_task(1, Status="Blocked")
    world.sf_task(2)
    world.link(30, 3)
    world.sf_task(3, Priority="Urgent", Subject="changed")
    world.sc_task(40, subject="x" * 256)
    world.sc_task(41)
    plan = world.plan()
    assert sf_ids(plan.sf_to_sc.creates) == {sf_id(2)}
    assert set(plan.sc_to_sf.creates["task_id"]) == {41}
    quarantined = plan.quarantined.set_index("error_code")
    assert quarantined.loc["SF_UNKNOWN_STATUS", "operation"] == "create"
    assert quarantined.loc["SF_UNKNOWN_PRIORITY", "operation"] == "update"
    assert quarantined.loc["SF_UNKNOWN_PRIORITY", "task_id"] == 30
    assert quarantined.loc["SC_SUBJECT_TOO_LONG", "direction"] == "sc_to_sf"
    assert len(quarantined.loc["SC_SUBJECT_TOO_LONG", "payload"]["subject"]) == 256  # kept whole


def test_empty_inputs_give_an_empty_plan_with_documented_columns(world: World) -> None:
    plan = world.plan()
    assert list(plan.sf_to_sc.creates.columns) == list(diff.SF_TO_SC_COLUMNS)
    assert list(plan.sc_to_sf.deletions.columns) == list(diff.SC_TO_SF_COLUMNS)
    assert list(plan.conflicts.columns) == list(diff.CONFLICT_COLUMNS)
    assert list(plan.quarantined.columns) == list(diff.QUARANTINE_COLUMNS)
    assert plan.counts()["sf_to_sc"] == {"create": 0, "update": 0, "complete": 0, "delete": 0}


def test_every_salesforce_open_word_survives_sc_edits(world: World) -> None:
    """Property-style loop: whatever open word Salesforce has, no Sales Connect edit of another
    field sends a Status, and re-opening restores that word (all cases in one plan)."""
    edits = {"subject": "s2", "description": "d2", "priority": "high", "task_type": "email",
             "due_date": dt.date(2026, 12, 1), "reminder_at": dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)}
    world.user(1)
    expected: dict[int, tuple[str, str]] = {}
    for word in ("Not Started", "In Progress", "Waiting on someone else", "Deferred"):
        for column, value in edits.items():
            task = len(expected) + 1
            world.link(task, task, sf_values={**AGREED_SF, "status": word})
            world.sc_task(task, seq=20, **{column: value})
            expected[task] = (word, column)
        task = len(expected) + 1
        world.link(task, task, sf_values={**AGREED_SF, "status": "Completed", fields.OPEN_STATUS_KEY: word},
                   sc_values={**AGREED_SC, "status": "completed"})
        world.sc_task(task, seq=20, status="open")
        expected[task] = (word, "reopen")
    updates = world.plan().sc_to_sf.updates
    sent = dict(zip(updates["task_id"], updates["sf_fields"], strict=True))
    assert set(sent) == set(expected)
    for task, (word, column) in expected.items():
        if column == "reopen":
            assert sent[task] == {"Status": word}
        else:
            assert sent[task] and "Status" not in sent[task], (word, column)


def test_synced_user_without_salesforce_id_is_never_pushed(world: World) -> None:
    world.user(1)
    world.users[0]["sf_owner_id"] = None
    world.sc_task(10)
    plan = world.plan()
    assert plan.sc_to_sf.creates.empty
    row = only(plan.quarantined)
    assert (row["error_code"], row["task_id"], row["direction"]) == ("SC_OWNER_NOT_MAPPED", 10, "sc_to_sf")


def test_quarantined_linked_records_name_both_ids(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sc_task(10, status="archived", seq=20)
    row = only(world.plan().quarantined)
    assert (row["error_code"], row["task_id"], row["sf_id"], row["operation"]) == (
        "SC_UNKNOWN_STATUS", 10, sf_id(1), "update")


def test_record_restored_from_recycle_bin_is_not_deleted(world: World) -> None:
    world.user(1)
    world.link(10, 1)
    world.sf_gone(1, when=NOW - dt.timedelta(minutes=30))
    world.sf_task(1, Subject="restored and edited", modified=NOW - dt.timedelta(minutes=10))
    world.link(20, 2)
    world.sf_gone(2, when=NOW - dt.timedelta(minutes=5))  # deleted after its last edit: still a deletion
    world.sf_task(2, modified=NOW - dt.timedelta(minutes=10))
    plan = world.plan()
    assert only(plan.sf_to_sc.updates)["task_id"] == 10
    assert only(plan.sf_to_sc.deletions)["task_id"] == 20
