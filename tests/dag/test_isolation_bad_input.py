"""SPEC §7 isolation and §10 bad input: one rep's tasks never reach another rep's list on either side;
surprising data gets a specific error on that record (quarantined, never truncated) while the rest of
the run goes through; a missing due date is ordinary; quoted text survives the round trip."""

from __future__ import annotations

import datetime as dt

from dag_harness import REP_USERNAMES, SyncHarness, now
from sqlalchemy import select

from sales_connect.models import Task
from task_sync.validation import SC_SUBJECT_TOO_LONG


def _chloe(harness: SyncHarness) -> str:
    """The Salesforce id of a rep who has no Sales Connect user."""
    return harness.sf.query(f"SELECT Id FROM User WHERE Username = '{REP_USERNAMES[2]}'")["records"][0]["Id"]


def test_one_reps_tasks_never_reach_another_reps_list_on_either_side(harness: SyncHarness) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    for rep in (ava, ben):
        harness.sf_create(rep.owner_id, f"{rep.login} from Salesforce")
        harness.sc_create(rep, f"{rep.login} from Sales Connect")
    harness.run()

    for rep in (ava, ben):
        mine = {f"{rep.login} from Salesforce", f"{rep.login} from Sales Connect"}
        assert {t.subject for t in harness.sc_tasks(rep)} == mine
        assert {t["Subject"] for t in harness.sf_tasks(rep.owner_id)} == mine

    handed_over = harness.sc_by_subject(ava, "ava.reyes from Salesforce")
    harness.sf_update(harness.link_of(handed_over.id).sf_id, OwnerId=ben.owner_id)
    harness.run()

    assert {t.subject for t in harness.sc_tasks(ava)} == {"ava.reyes from Sales Connect"}
    assert {t.subject for t in harness.sc_tasks(ben)} == {
        "ben.okafor from Salesforce", "ben.okafor from Sales Connect", "ava.reyes from Salesforce"}


def test_salesforce_tasks_of_unmapped_or_unsynced_owners_are_not_imported_and_the_run_goes_on(
    harness: SyncHarness,
) -> None:
    ava = harness.rep(0)
    ben = harness.rep(1, enabled=False)  # mapped, but sync is off
    chloe_owner = _chloe(harness)
    harness.sf_create(chloe_owner, "chloe's own task")
    harness.sf_create(ben.owner_id, "ben's own task")
    harness.sf_create(ava.owner_id, "ava's task")
    harness.sc_create(ben, "ben's Sales Connect task")

    history = harness.run()

    assert history.counts["sf_to_sc"]["create"] == 1 and history.counts["sc_to_sf"]["create"] == 0
    with harness.store.session() as s:
        assert set(s.scalars(select(Task.subject))) == {"ava's task", "ben's Sales Connect task"}
    assert [t["Subject"] for t in harness.sf_tasks(ben.owner_id)] == ["ben's own task"]


def test_subject_longer_than_salesforce_allows_is_quarantined_not_truncated_and_the_rest_goes_through(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    long_subject = "Follow up on the renewal " + "x" * 275  # 300 characters; the app's form caps at 255,
    with harness.store.session() as s:  # but rows also arrive through imports and older clients
        s.add(Task(user_id=rep.user_id, subject=long_subject, created_at=now()))
    fine = harness.sc_create(rep, "a normal task")

    history = harness.run(expect="partial")

    assert history.counts["sc_to_sf"]["create"] == 1 and history.counts["errors"] == 1
    assert [t["Subject"] for t in harness.sf_tasks(rep.owner_id)] == ["a normal task"]
    assert harness.link_of(fine) is not None
    [error] = harness.open_errors()
    long_task = harness.sc_by_subject(rep, long_subject)
    assert (error.error_code, error.task_id, error.user_id, error.direction) == (
        SC_SUBJECT_TOO_LONG, long_task.id, rep.user_id, "sc_to_sf")
    assert "300 characters" in error.message and "255" in error.message and "not truncated" in error.message
    assert harness.sc_task(long_task.id).subject == long_subject  # untouched on our side too

    harness.sc_update(rep, long_task.id, subject="Follow up on the renewal")
    retried = harness.run()

    assert retried.counts["sc_to_sf"]["create"] == 1 and harness.open_errors() == []
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == ["Follow up on the renewal",
                                                                           "a normal task"]


def test_a_missing_due_date_syncs_both_ways_and_clearing_one_clears_the_other(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    undated_sf = harness.sf_create(rep.owner_id, "someday, from Salesforce")
    undated_sc = harness.sc_create(rep, "someday, from Sales Connect")
    dated = harness.sc_create(rep, "dated for now", due_date=now().date() + dt.timedelta(days=1))
    harness.run()

    assert harness.sc_by_subject(rep, "someday, from Salesforce").due_date is None
    assert harness.sf_task(harness.link_of(undated_sc).sf_id)["ActivityDate"] is None
    assert harness.open_errors() == []

    harness.sc_update(rep, dated, due_date=None)
    harness.sf_update(undated_sf, ActivityDate=now().date().isoformat())
    harness.run()

    assert harness.sf_task(harness.link_of(dated).sf_id)["ActivityDate"] is None
    assert harness.sc_by_subject(rep, "someday, from Salesforce").due_date == now().date()


def test_quotes_and_backslashes_in_text_round_trip_unchanged(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    from_sc = "Call O'Brien re: \"50% off\" \\ C:\\deals\\q4 -- ' OR '1'='1"
    from_sf = "Ask 'Bob' about \"Q4\" \\n not a newline \\' still text"
    pushed = harness.sc_create(rep, from_sc, description="line one\nline 'two' \\ end")
    harness.sf_create(rep.owner_id, from_sf, Description="she said \"yes\" \\o/")

    history = harness.run()

    assert history.status == "success"
    sent = harness.sf_task(harness.link_of(pushed).sf_id)
    assert (sent["Subject"], sent["Description"]) == (from_sc, "line one\nline 'two' \\ end")
    received = harness.sc_by_subject(rep, from_sf)
    assert received is not None and received.description == "she said \"yes\" \\o/"


def test_a_task_handed_to_someone_outside_the_sync_leaves_the_reps_list(harness: SyncHarness) -> None:
    ava = harness.rep(0)
    ben = harness.rep(1, enabled=False)
    to_ben = harness.sf_create(ava.owner_id, "handed to a rep with sync off")
    to_chloe = harness.sf_create(ava.owner_id, "handed to a user Sales Connect does not know")
    harness.run()
    assert len(harness.sc_tasks(ava)) == 2

    harness.sf_update(to_ben, OwnerId=ben.owner_id)
    harness.sf_update(to_chloe, OwnerId=_chloe(harness))
    harness.emu.advance_clock(90)  # getUpdated answers whole minutes: the next run, a minute or more later
    history = harness.run()

    assert history.counts["sf_to_sc"]["delete"] == 2
    assert harness.sc_tasks(ava) == [] and harness.sc_tasks(ben) == []
