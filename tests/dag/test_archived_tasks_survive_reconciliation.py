"""SPEC §5: the id reconciliation asks Salesforce which linked tasks still exist *including archived
ones* (``queryAll``). Salesforce archives closed activities due more than a year ago and ``query``
no longer returns them, yet they exist: a rep's old completed task never leaves Sales Connect
because of a ``full_reconcile`` or a re-enable after more than 15 days. A task really deleted
(in the recycle bin, or purged from it) is still removed."""

from __future__ import annotations

import datetime as dt

from dag_harness import Rep, SyncHarness, now

from sales_connect.models import User

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
TWO_YEARS_AGO = (now() - 730 * DAY).date().isoformat()


def _delete_in_salesforce_at(harness: SyncHarness, sf_id: str, when: dt.datetime) -> None:
    """Delete a task as a rep did at ``when`` (``DeletedDate`` = ``when``); the emulator's clock is set
    back for the one call and restored at once, which purges bin rows older than 15 days."""
    harness.emu.set_clock(when)
    try:
        harness.sf_delete(sf_id)
    finally:
        harness.emu.set_clock(now())


def _live_subjects(harness: SyncHarness, rep: Rep) -> set[str]:
    return {t.subject for t in harness.sc_tasks(rep)}


def test_full_reconcile_keeps_archived_tasks_and_removes_deleted_ones(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    # Last touched hours ago (outside the next run's overlap, so only the reconciliation looks at it).
    harness.sf_seed(rep.owner_id, "won deal, closed two years ago", modified=now() - 2 * HOUR, Status="Completed",
                    ActivityDate=TWO_YEARS_AGO)
    in_bin = harness.sf_create(rep.owner_id, "dropped lead")
    harness.sf_create(rep.owner_id, "live prospect")
    harness.run()
    assert _live_subjects(harness, rep) == {"won deal, closed two years ago", "dropped lead", "live prospect"}
    assert harness.emu.archive() == 1  # Salesforce's archiver: query no longer returns it
    # In the recycle bin since before the run-wide getDeleted cursor: only the reconciliation can tell.
    _delete_in_salesforce_at(harness, in_bin, now() - 2 * DAY)

    history = harness.run(full_reconcile=True)

    assert _live_subjects(harness, rep) == {"won deal, closed two years ago", "live prospect"}
    assert history.counts["sf_to_sc"]["delete"] == 1


def test_reenable_after_16_days_keeps_archived_tasks_and_removes_purged_ones(harness: SyncHarness) -> None:
    start = now()
    last_read = start - 17 * DAY
    # The rep's last real sync ran 17 days ago by Salesforce's clock.
    harness.emu.set_clock(last_read)
    rep = harness.rep(0, enable_at=last_read)
    harness.sf_seed(rep.owner_id, "won deal, closed two years ago", modified=last_read - HOUR,
                    Status="Completed", ActivityDate=TWO_YEARS_AGO)
    purged = harness.sf_seed(rep.owner_id, "ancient follow-up", modified=last_read - HOUR)
    harness.run()
    harness.emu.set_clock(now())
    assert _live_subjects(harness, rep) == {"won deal, closed two years ago", "ancient follow-up"}
    with harness.store.session() as s:
        s.get(User, rep.user_id).last_synced_at = last_read
    harness.disable(rep.user_id, at=last_read)
    _delete_in_salesforce_at(harness, purged, start - 16 * DAY)
    assert harness.sf_row(purged) is None  # purged from the recycle bin: getDeleted cannot tell
    assert harness.emu.archive() == 1

    harness.enable(rep.user_id)
    history = harness.run()

    assert _live_subjects(harness, rep) == {"won deal, closed two years ago"}
    assert history.counts["sf_to_sc"]["delete"] == 1
