"""A run touches only the reps it serves (issue 10 #11): the run-wide ``getDeleted`` list is applied
by each shard to its own reps only, and a ``user_ids`` run (the settings page's enable trigger)
to those users only; another rep's deletion waits for that rep's run and is not lost."""

from __future__ import annotations

from dag_harness import Rep, SyncHarness

from task_sync.shards import shard_index


def _deleted_in_salesforce(harness: SyncHarness, *sf_ids: str) -> None:
    """Delete in Salesforce, then let Salesforce's clock pass the minute: ``getDeleted`` covers whole
    minutes only, so the run's one ``getDeleted`` call reports these deletions (to every shard)."""
    for sf_id in sf_ids:
        harness.sf_delete(sf_id)
    harness.emu.advance_clock(120)


def _linked_task_each(harness: SyncHarness, *reps: Rep) -> dict[int, tuple[str, int]]:
    """One Salesforce task per rep, imported by a full run: ``{user_id: (sf_id, task_id)}``."""
    made = {rep.user_id: harness.sf_create(rep.owner_id, f"follow up for {rep.login}") for rep in reps}
    harness.run()
    return {rep.user_id: (made[rep.user_id], harness.sc_by_subject(rep, f"follow up for {rep.login}").id)
            for rep in reps}


def test_a_one_rep_run_removes_only_that_reps_deletions_and_the_others_wait_for_their_run(
    harness: SyncHarness,
) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    tasks = _linked_task_each(harness, ava, ben)
    _deleted_in_salesforce(harness, *(sf_id for sf_id, _ in tasks.values()))

    only_ava = harness.run(user_ids=[ava.user_id])

    assert harness.sc_task(tasks[ava.user_id][1]).deleted_at is not None
    assert harness.sc_task(tasks[ben.user_id][1]).deleted_at is None, "Ava's run removed Ben's task"
    assert harness.link_of(tasks[ben.user_id][1]) is not None
    assert only_ava.counts["sf_to_sc"]["delete"] == 1

    everyone = harness.run()

    assert harness.sc_task(tasks[ben.user_id][1]).deleted_at is not None
    assert harness.link_of(tasks[ben.user_id][1]) is None
    assert everyone.counts["sf_to_sc"]["delete"] == 1


def test_each_shard_plans_and_removes_only_its_own_reps_deletions(harness: SyncHarness) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    assert shard_index(ava.user_id, 2) != shard_index(ben.user_id, 2)  # the harness runs two shards
    tasks = _linked_task_each(harness, ava, ben)
    _deleted_in_salesforce(harness, *(sf_id for sf_id, _ in tasks.values()))

    planned = harness.run(dry_run=True)
    history = harness.run()

    assert planned.counts["sf_to_sc"]["delete"] == 2, "a deletion planned by more than one shard"
    assert history.counts["sf_to_sc"]["delete"] == 2
    assert history.counts["conflicts"] == 0 and history.counts["errors"] == 0, history.counts
    assert all(harness.sc_task(task_id).deleted_at is not None for _, task_id in tasks.values())
