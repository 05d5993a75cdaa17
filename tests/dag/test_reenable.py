"""SPEC §3, §5: switching sync back on catches up both directions for the time it was off.

The first enable's rules (the 24-hour import, pre-existing tasks never pushed) are about the first
enable only. A re-enable reads the rep's Salesforce changes from the Salesforce server time of the
last read that was applied for them, minus the overlap, and pushes their Sales Connect tasks made
after the first enable. Histories "days ago" are played on the emulator's clock
(``salesforce_clock``), so every watermark and stamp comes from real runs.

The rep and a colleague share one shard (``SALES_CONNECT_SYNC_SHARDS=1``): the colleague keeps
syncing while the rep is off, so the shard's watermark moves past the rep's changes, as it does in
production where a shard serves many reps.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dag_harness import SyncHarness, now

from task_sync import pipeline

DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _one_shard(harness: SyncHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_CONNECT_SYNC_SHARDS", "1")  # after the harness fixture's own setting


def test_salesforce_edits_made_while_sync_was_off_arrive_when_it_is_switched_back_on(harness: SyncHarness) -> None:
    start = now()
    rep = harness.rep(0, enable_at=start - 3 * DAY)
    harness.rep(2, enable_at=start - 3 * DAY)  # the colleague who keeps syncing
    sf_id = harness.sf_seed(rep.owner_id, "call the buyer", modified=start - 3 * DAY)
    with harness.salesforce_clock(start - 3 * DAY + HOUR):
        harness.run()
    task = harness.sc_by_subject(rep, "call the buyer")
    assert task is not None
    with harness.salesforce_clock(start - 3 * DAY + 2 * HOUR):
        harness.sf_update(sf_id, Subject="call the buyer about the renewal")
    harness.disable(rep.user_id, at=start - 3 * DAY + 3 * HOUR)
    with harness.salesforce_clock(start - 2 * DAY):
        harness.run()

    harness.enable(rep.user_id)
    history = harness.run()

    assert harness.sc_task(task.id).subject == "call the buyer about the renewal"
    assert history.counts["sf_to_sc"]["update"] == 1


def test_a_rep_who_switched_sync_off_during_a_run_gets_that_runs_salesforce_edits_when_back_on(
    harness: SyncHarness,
) -> None:
    """The rep switches off between the plan and the extract: the run reads their edit but the diff
    (rightly) leaves it alone, so that run must not count as having synced them."""
    start = now()
    rep = harness.rep(0, enable_at=start - 3 * DAY)
    harness.rep(2, enable_at=start - 3 * DAY)
    sf_id = harness.sf_seed(rep.owner_id, "send the quote", modified=start - 3 * DAY)
    with harness.salesforce_clock(start - 3 * DAY + HOUR):
        harness.run()
    task = harness.sc_by_subject(rep, "send the quote")
    assert task is not None
    with harness.salesforce_clock(start - 3 * DAY + 2 * HOUR):
        harness.sf_update(sf_id, Subject="send the revised quote")
        run = harness.pipeline_run("switched-off-after-planning")
        planned = pipeline.plan_run(run)
        harness.disable(rep.user_id, at=start - 3 * DAY + 2 * HOUR)
        loaded = [pipeline.load_shard(run, pipeline.diff_shard(run, pipeline.extract_shard(run, s)))
                  for s in planned["shards"]]
        pipeline.report(run, planned, loaded, pipeline.publish_watermarks(run, planned, loaded))
    assert harness.sc_task(task.id).subject == "send the quote"  # off: no traffic
    with harness.salesforce_clock(start - 2 * DAY):
        harness.run()

    harness.enable(rep.user_id)
    harness.run()

    assert harness.sc_task(task.id).subject == "send the revised quote"


def test_tasks_written_in_sales_connect_before_a_switch_off_or_while_off_are_pushed_when_back_on(
    harness: SyncHarness,
) -> None:
    first_on = now() - HOUR
    rep = harness.rep(0, enabled=False)
    harness.sc_create(rep, "from before sync", at=first_on - DAY)
    harness.enable(rep.user_id, first_on)
    harness.sc_create(rep, "written while sync was on", at=first_on + dt.timedelta(minutes=1))
    harness.disable(rep.user_id, first_on + dt.timedelta(minutes=2))  # before any run pushed it
    harness.sc_create(rep, "written while sync was off", at=first_on + dt.timedelta(minutes=3))
    harness.enable(rep.user_id, first_on + dt.timedelta(minutes=4))

    history = harness.run()

    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == [
        "written while sync was off", "written while sync was on"]
    assert history.counts["skipped_preexisting"] == 1  # the first enable's rule still holds


def test_salesforce_tasks_created_while_sync_was_off_are_imported_like_the_edits_of_that_time(
    harness: SyncHarness,
) -> None:
    start = now()
    rep = harness.rep(0, enable_at=start - 3 * DAY)
    harness.rep(2, enable_at=start - 3 * DAY)
    linked = harness.sf_seed(rep.owner_id, "demo for the board", modified=start - 3 * DAY)
    with harness.salesforce_clock(start - 3 * DAY + HOUR):
        harness.run()
    harness.disable(rep.user_id, at=start - 3 * DAY + 2 * HOUR)
    with harness.salesforce_clock(start - 2 * DAY):
        harness.sf_create(rep.owner_id, "booked while sync was off")
        harness.sf_update(linked, Subject="demo for the board, moved")
        harness.run()

    harness.enable(rep.user_id)
    history = harness.run()

    assert sorted(t.subject for t in harness.sc_tasks(rep)) == ["booked while sync was off",
                                                                "demo for the board, moved"]
    assert (history.counts["sf_to_sc"]["create"], history.counts["sf_to_sc"]["update"]) == (1, 1)
