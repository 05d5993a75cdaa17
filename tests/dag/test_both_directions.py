"""SPEC §4: after the first sync, create / edit / complete / delete made on either side reach the
other side on the next run; re-opening is an edit; the mapping loses nothing the other side has."""

from __future__ import annotations

import datetime as dt

from dag_harness import SyncHarness, now

from task_sync.salesforce import parse_sf_datetime

# A Salesforce-only field the sync never maps: an Account the task is related to.
ACCOUNT_ID = "001000000000001AAA"


def _days(n: int) -> dt.date:
    return now().date() + dt.timedelta(days=n)


def _reminder(hours: int) -> dt.datetime:
    return (now() + dt.timedelta(hours=hours)).replace(microsecond=0)


def test_sales_connect_create_edit_complete_delete_and_reopen_reach_salesforce(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    reminder = _reminder(5)
    edited = harness.sc_create(rep, "call the buyer", description="first pass", due_date=_days(3), priority="normal",
                               task_type="call", reminder_at=reminder)
    done = harness.sc_create(rep, "send the deck", due_date=_days(1))
    gone = harness.sc_create(rep, "stale follow-up")

    first = harness.run()

    assert first.counts["sc_to_sf"]["create"] == 3
    created = harness.sf_task(harness.link_of(edited).sf_id)
    assert created["OwnerId"] == rep.owner_id and created["Sales_Connect_Id__c"] == harness.external_id(edited)
    assert (created["Subject"], created["Description"], created["ActivityDate"], created["Priority"],
            created["Type"], created["Status"]) == ("call the buyer", "first pass", _days(3).isoformat(), "Normal",
                                                    "Call", "Not Started")
    assert created["IsReminderSet"] is True and parse_sf_datetime(created["ReminderDateTime"]) == reminder

    new_reminder = _reminder(30)
    harness.sc_update(rep, edited, subject="call the buyer again", description="second pass", due_date=_days(4),
                      priority="high", task_type="meeting", reminder_at=new_reminder)
    harness.sc_complete(rep, done)
    gone_sf_id = harness.link_of(gone).sf_id
    harness.sc_delete(rep, gone)

    second = harness.run()

    assert second.counts["sc_to_sf"] == {"create": 0, "update": 1, "complete": 1, "delete": 1}
    updated = harness.sf_task(harness.link_of(edited).sf_id)
    assert (updated["Subject"], updated["Description"], updated["ActivityDate"], updated["Priority"],
            updated["Type"]) == ("call the buyer again", "second pass", _days(4).isoformat(), "High", "Meeting")
    assert parse_sf_datetime(updated["ReminderDateTime"]) == new_reminder
    completed = harness.sf_task(harness.link_of(done).sf_id)
    assert completed["Status"] == "Completed" and completed["IsClosed"] is True
    assert completed["CompletedDateTime"] is not None
    assert harness.sf_row(gone_sf_id)["IsDeleted"] is True  # in the recycle bin, not purged
    assert harness.link_of(gone) is None

    harness.sc_reopen(rep, done)
    third = harness.run()

    assert third.counts["sc_to_sf"]["update"] == 1
    reopened = harness.sf_task(harness.link_of(done).sf_id)
    assert reopened["Status"] == "Not Started" and reopened["IsClosed"] is False


def test_salesforce_create_edit_complete_delete_and_reopen_reach_sales_connect(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    edited = harness.sf_create(rep.owner_id, "ask for an intro", Description="warm lead",
                               ActivityDate=_days(2).isoformat(), Priority="Normal", Type="Call")
    done = harness.sf_create(rep.owner_id, "book the demo", ActivityDate=_days(0).isoformat())
    gone = harness.sf_create(rep.owner_id, "cold lead", ActivityDate=_days(0).isoformat())

    first = harness.run()

    assert first.counts["sf_to_sc"]["create"] == 3
    imported = harness.sc_by_subject(rep, "ask for an intro")
    assert (imported.description, imported.due_date, imported.priority, imported.task_type, imported.status) == (
        "warm lead", _days(2), "normal", "call", "open")
    assert harness.link_of(imported.id).sf_id == edited
    gone_task = harness.sc_by_subject(rep, "cold lead").id
    assert gone_task in {t.id for t in harness.command_center(rep, now())}

    reminder = _reminder(8)
    harness.sf_update(edited, Subject="ask for a warm intro", Description="very warm lead",
                      ActivityDate=_days(5).isoformat(), Priority="High", Type="Email",
                      ReminderDateTime=reminder.isoformat(), IsReminderSet=True, Status="In Progress")
    harness.sf_update(done, Status="Completed")
    harness.sf_delete(gone)

    second = harness.run()

    assert second.counts["sf_to_sc"] == {"create": 0, "update": 1, "complete": 1, "delete": 1}
    task = harness.sc_task(imported.id)
    assert (task.subject, task.description, task.due_date, task.priority, task.task_type, task.status) == (
        "ask for a warm intro", "very warm lead", _days(5), "high", "email", "open")
    assert task.reminder_at == reminder
    finished = harness.sc_by_subject(rep, "book the demo")
    assert finished.status == "completed"
    assert finished.completed_at == parse_sf_datetime(harness.sf_task(done)["CompletedDateTime"])
    assert harness.sc_by_subject(rep, "cold lead") is None
    assert harness.sc_task(gone_task).deleted_at is not None
    assert gone_task not in {t.id for t in harness.command_center(rep, now())}

    harness.sf_update(done, Status="Not Started")
    third = harness.run()

    assert third.counts["sf_to_sc"]["update"] == 1
    reopened = harness.sc_task(finished.id)
    assert reopened.status == "open" and reopened.completed_at is None


def test_salesforce_only_values_survive_sales_connect_edits_and_a_complete_reopen_round_trip(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    renamed = harness.sf_create(rep.owner_id, "negotiate", Status="In Progress", Priority="Low", WhatId=ACCOUNT_ID)
    parked = harness.sf_create(rep.owner_id, "renewal check", Status="Deferred", Priority="Low")
    harness.run()
    renamed_task = harness.sc_by_subject(rep, "negotiate")
    parked_task = harness.sc_by_subject(rep, "renewal check")
    assert (renamed_task.status, renamed_task.priority) == ("open", "low")

    harness.sc_update(rep, renamed_task.id, subject="negotiate terms")
    harness.sc_complete(rep, parked_task.id)
    harness.run()

    after_edit = harness.sf_task(renamed)
    assert (after_edit["Subject"], after_edit["Status"], after_edit["Priority"], after_edit["WhatId"]) == (
        "negotiate terms", "In Progress", "Low", ACCOUNT_ID)
    assert harness.sf_task(parked)["Status"] == "Completed"

    harness.sc_reopen(rep, parked_task.id)
    harness.run()

    back = harness.sf_task(parked)
    assert (back["Status"], back["Priority"]) == ("Deferred", "Low")  # the open word Salesforce had comes back
