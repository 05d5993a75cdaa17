"""The DAG's params (dry_run, preview_enable, user_ids) and a resumable first sync (SPEC §3), run for real."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from dag_harness import Rep, SyncHarness, now

from sales_connect.models import User
from task_sync import pipeline
from task_sync.salesforce import SalesforceUnavailable


def _snapshot(harness: SyncHarness, *reps: Rep) -> dict[str, Any]:
    """Everything a run could write, on both sides."""
    sc = {r.user_id: [(t.id, t.subject, t.status, t.priority, t.version, t.deleted_at) for t in
                      harness.sc_tasks(r, include_deleted=True)] for r in reps}
    links = {r.user_id: [(t.id, harness.link_of(t.id) and harness.link_of(t.id).sf_id)
                         for t in harness.sc_tasks(r, include_deleted=True)] for r in reps}
    return {"sc": sc, "links": links, "sf": harness.emu.tasks()}


def test_dry_run_writes_nothing_on_either_side_but_records_the_planned_counts(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    linked = harness.sc_create(rep, "already synced")
    harness.run()
    harness.sc_update(rep, linked, subject="already synced, renamed")
    harness.sc_create(rep, "new in Sales Connect")
    harness.sf_create(rep.owner_id, "new in Salesforce")
    before = _snapshot(harness, rep)

    dry = harness.run(dry_run=True)

    assert _snapshot(harness, rep) == before
    assert dry.dry_run and dry.status == "success"
    assert dry.counts["sc_to_sf"] == {"create": 1, "update": 1, "complete": 0, "delete": 0}
    assert dry.counts["sf_to_sc"] == {"create": 1, "update": 0, "complete": 0, "delete": 0}

    real = harness.run()  # the dry run moved no watermark: everything it planned still happens

    assert real.counts["sc_to_sf"] == dry.counts["sc_to_sf"] and real.counts["sf_to_sc"] == dry.counts["sf_to_sc"]
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == [
        "already synced, renamed", "new in Sales Connect", "new in Salesforce"]


def test_preview_of_switching_sync_on_lists_the_imports_and_changes_nothing(harness: SyncHarness) -> None:
    rep = harness.rep(0, enabled=False)
    at = now()
    harness.sf_seed(rep.owner_id, "an hour old", modified=at - dt.timedelta(hours=1))
    harness.sf_seed(rep.owner_id, "twenty hours old", modified=at - dt.timedelta(hours=20))
    harness.sf_seed(rep.owner_id, "three days old", modified=at - dt.timedelta(days=3))
    harness.sf_seed(rep.owner_id, "a week old", modified=at - dt.timedelta(days=7))
    harness.sc_create(rep, "in Sales Connect already", at=at - dt.timedelta(days=2))
    before = _snapshot(harness, rep)

    preview = harness.run(dry_run=True, preview_enable=True, user_ids=[rep.user_id])

    shown = preview.counts["preview"]
    assert sorted(i["subject"] for i in shown["import"]) == ["an hour old", "twenty hours old"]
    assert shown["not_imported_older"] == 2
    assert [i["subject"] for i in shown["left_alone_sc"]] == ["in Sales Connect already"]
    assert _snapshot(harness, rep) == before
    with harness.store.session() as s:
        user = s.get(User, rep.user_id)
        assert (user.sync_enabled, user.enabled_at, user.initial_sync_done_at) == (False, None, None)


def test_user_ids_syncs_only_those_users_and_the_others_are_not_skipped_later(harness: SyncHarness) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    harness.run()
    harness.sc_create(ava, "Ava's new task")
    harness.sf_create(ava.owner_id, "Ava's Salesforce task")
    harness.sc_create(ben, "Ben's new task")
    harness.sf_create(ben.owner_id, "Ben's Salesforce task")

    subset = harness.run(user_ids=[ava.user_id])

    assert sorted(t.subject for t in harness.sc_tasks(ava)) == ["Ava's Salesforce task", "Ava's new task"]
    assert sorted(t["Subject"] for t in harness.sf_tasks(ava.owner_id)) == ["Ava's Salesforce task", "Ava's new task"]
    assert [t.subject for t in harness.sc_tasks(ben)] == ["Ben's new task"]
    assert [t["Subject"] for t in harness.sf_tasks(ben.owner_id)] == ["Ben's Salesforce task"]
    assert subset.user_ids == {"ids": [ava.user_id]}

    harness.run()

    assert sorted(t.subject for t in harness.sc_tasks(ben)) == ["Ben's Salesforce task", "Ben's new task"]
    assert sorted(t["Subject"] for t in harness.sf_tasks(ben.owner_id)) == ["Ben's Salesforce task", "Ben's new task"]
    assert len(harness.sc_tasks(ava)) == 2 and len(harness.sf_tasks(ava.owner_id)) == 2


def test_a_first_sync_that_dies_half_way_is_finished_by_the_next_run_without_duplicates(
    harness: SyncHarness,
) -> None:
    enable_at = now()
    rep = harness.rep(0, enable_at=enable_at)
    for n in range(30):
        harness.sf_seed(rep.owner_id, f"imported {n}", modified=enable_at - dt.timedelta(hours=1, minutes=n))
    pushed = [harness.sc_create(rep, f"pushed {n}") for n in range(250)]  # two collection calls
    harness.emu.add_fault("delay", count=1, path="/composite/sobjects", method="POST", delay_ms=1)
    harness.emu.add_fault("http_500", count=4, path="/composite/sobjects", method="POST")

    first = harness.pipeline_run("first-sync-dies")
    run_plan = pipeline.plan_run(first)
    (shard,) = [s for s in run_plan["shards"] if rep.user_id in s["user_ids"]]
    diffed = pipeline.diff_shard(first, pipeline.extract_shard(first, shard))
    try:
        pipeline.load_shard(first, diffed)
    except SalesforceUnavailable:
        pass  # half of the first sync is written: the imports and the first 200 pushes
    else:
        raise AssertionError("the first sync was expected to die on its second collection call")
    assert len(harness.sc_tasks(rep)) == 280 and len(harness.sf_tasks(rep.owner_id)) == 230

    finished = harness.run()

    sc = Counter(t.subject for t in harness.sc_tasks(rep))
    sf = Counter(t["Subject"] for t in harness.sf_tasks(rep.owner_id))
    assert sc == sf and set(sc.values()) == {1} and len(sc) == 280
    assert all(harness.link_of(i) is not None for i in pushed)
    assert finished.counts["sc_to_sf"]["create"] == 50
    with harness.store.session() as s:
        assert s.get(User, rep.user_id).initial_sync_done_at is not None
