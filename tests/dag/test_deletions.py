"""SPEC §5: deletions in Salesforce leave Sales Connect -- since the last run through ``getDeleted``,
after sync was off through the re-enable window (15 days), and beyond it through the id
reconciliation (a linked id Salesforce no longer has is removed)."""

from __future__ import annotations

import datetime as dt

from dag_harness import Rep, SyncHarness, now

DAY = dt.timedelta(days=1)


def _delete_in_salesforce_at(harness: SyncHarness, sf_id: str, when: dt.datetime) -> None:
    """Delete a task as a rep did at ``when`` (recycle bin, ``DeletedDate`` = ``when``): the emulator's
    clock is set back for the one call and restored at once, which purges bin rows older than 15 days."""
    harness.emu.set_clock(when)
    try:
        harness.sf_delete(sf_id)
    finally:
        harness.emu.set_clock(now())


def _synced_then_switched_off(harness: SyncHarness, rep: Rep, since: dt.datetime) -> None:
    """History: a real run at ``since`` on Salesforce's clock (so the rep's last committed read is
    then), and sync switched off right after."""
    with harness.salesforce_clock(since):
        harness.run()
    harness.disable(rep.user_id, at=since)


def test_task_deleted_in_salesforce_since_the_last_run_leaves_sales_connect_and_the_command_center(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    doomed = harness.sf_create(rep.owner_id, "old prospect", ActivityDate=now().date().isoformat())
    kept = harness.sf_create(rep.owner_id, "live prospect", ActivityDate=now().date().isoformat())
    harness.run()
    task = harness.sc_by_subject(rep, "old prospect")
    assert {t.subject for t in harness.command_center(rep, now())} == {"old prospect", "live prospect"}

    harness.sf_delete(doomed)
    history = harness.run()

    assert history.counts["sf_to_sc"]["delete"] == 1
    assert harness.sc_task(task.id).deleted_at is not None and harness.link_of(task.id) is None
    assert [t.subject for t in harness.command_center(rep, now())] == ["live prospect"]
    assert harness.sf_row(kept)["IsDeleted"] is False


def test_reenabled_sync_removes_tasks_salesforce_deleted_while_it_was_off_within_15_days(
    harness: SyncHarness,
) -> None:
    start = now()
    rep = harness.rep(0, enable_at=start - 13 * DAY)
    other = harness.rep(1)  # keeps syncing, so the run-wide getDeleted cursor moves on meanwhile
    deleted_while_off = harness.sf_seed(rep.owner_id, "call back", modified=start - 13 * DAY + dt.timedelta(hours=1))
    harness.sf_seed(rep.owner_id, "still here", modified=start - 13 * DAY + dt.timedelta(hours=2))
    _synced_then_switched_off(harness, rep, start - 12 * DAY)
    task = harness.sc_by_subject(rep, "call back")
    assert task is not None

    _delete_in_salesforce_at(harness, deleted_while_off, start - 10 * DAY)
    harness.sf_create(other.owner_id, "other rep keeps working")
    while_off = harness.run()
    assert while_off.counts["sf_to_sc"]["create"] == 1 and harness.sc_task(task.id).deleted_at is None

    harness.enable(rep.user_id)
    history = harness.run()

    assert history.counts["sf_to_sc"]["delete"] == 1
    assert [t.subject for t in harness.sc_tasks(rep)] == ["still here"]
    assert harness.link_of(task.id) is None


def test_deletion_older_than_15_days_is_caught_by_the_id_reconciliation(harness: SyncHarness) -> None:
    start = now()
    rep = harness.rep(0, enable_at=start - 21 * DAY)
    purged = harness.sf_seed(rep.owner_id, "ancient follow-up", modified=start - 21 * DAY + dt.timedelta(hours=1))
    harness.sf_seed(rep.owner_id, "still here", modified=start - 21 * DAY + dt.timedelta(hours=2))
    _synced_then_switched_off(harness, rep, start - 20 * DAY)
    task = harness.sc_by_subject(rep, "ancient follow-up")

    _delete_in_salesforce_at(harness, purged, start - 17 * DAY)
    assert harness.sf_row(purged) is None  # purged from the recycle bin: getDeleted cannot tell

    harness.enable(rep.user_id)
    history = harness.run()

    assert history.counts["sf_to_sc"]["delete"] == 1
    assert [t.subject for t in harness.sc_tasks(rep)] == ["still here"]
    assert harness.sc_task(task.id).deleted_at is not None


def test_full_reconcile_param_removes_every_users_tasks_salesforce_no_longer_has(harness: SyncHarness) -> None:
    start = now()
    reps = [harness.rep(0, enable_at=start - 20 * DAY), harness.rep(1, enable_at=start - 20 * DAY)]
    gone = [harness.sf_seed(r.owner_id, f"gone for {r.login}", modified=start - 19 * DAY) for r in reps]
    for r in reps:
        harness.sf_seed(r.owner_id, f"kept for {r.login}", modified=start - 19 * DAY)
    harness.run()
    for sf_id in gone:
        _delete_in_salesforce_at(harness, sf_id, start - 17 * DAY)

    ordinary = harness.run()
    assert ordinary.counts["sf_to_sc"]["delete"] == 0, "a purge older than getDeleted's window is invisible to it"

    history = harness.run(full_reconcile=True)

    assert history.counts["sf_to_sc"]["delete"] == 2
    for r in reps:
        assert [t.subject for t in harness.sc_tasks(r)] == [f"kept for {r.login}"]
