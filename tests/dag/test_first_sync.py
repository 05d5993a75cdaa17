"""SPEC §3: the first sync -- the 24-hour import, and pre-existing Sales Connect tasks stay put."""

from __future__ import annotations

import datetime as dt

from dag_harness import SyncHarness, now


def test_first_sync_imports_the_last_24_hours_and_nothing_older(harness: SyncHarness) -> None:
    enable_at = now()
    rep = harness.rep(0, enable_at=enable_at)
    harness.sf_seed(rep.owner_id, "two days old", modified=enable_at - dt.timedelta(days=2))
    harness.sf_seed(rep.owner_id, "twenty hours old", modified=enable_at - dt.timedelta(hours=20),
                    ActivityDate=enable_at.date().isoformat())
    harness.sf_seed(rep.owner_id, "one hour old", modified=enable_at - dt.timedelta(hours=1), Status="In Progress")

    history = harness.run()

    assert sorted(t.subject for t in harness.sc_tasks(rep)) == ["one hour old", "twenty hours old"]
    assert history.counts["sf_to_sc"]["create"] == 2
    assert history.api_calls > 0


def test_preexisting_sales_connect_task_is_never_pushed_even_after_edit(harness: SyncHarness) -> None:
    enable_at = now()
    rep = harness.rep(0, enabled=False)
    old = harness.sc_create(rep, "existed before sync", at=enable_at - dt.timedelta(days=1))
    harness.enable(rep.user_id, enable_at)
    new = harness.sc_create(rep, "created after sync")

    first = harness.run()
    harness.sc_update(rep, old, subject="existed before sync, edited")
    second = harness.run()

    subjects = [t["Subject"] for t in harness.sf_tasks(rep.owner_id)]
    assert subjects == ["created after sync"]
    assert first.counts["skipped_preexisting"] == 1 and second.counts["skipped_preexisting"] == 1
    assert harness.link_of(new) is not None and harness.link_of(old) is None
