"""SPEC §7: a Salesforce write never overwrites a Salesforce change the diff did not see.

Just before it updates or deletes Salesforce records, the load re-reads them (``write_guard``): a
record edited in Salesforce after the diff read it -- while the load runs, or before Airflow retries
the load with the same plan -- is re-planned with both versions and becomes a conflict (latest
change wins, ties to Salesforce, delete wins over edit), and a record Salesforce has given to
another owner never receives the old owner's edit or deletion.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from dag_harness import SyncHarness

from task_sync import pipeline
from task_sync.diff import RULE_DELETE_WINS, RULE_LATEST_WINS, RULE_OWNER_CHANGED, WINNER_SC, WINNER_SF


def _linked(harness: SyncHarness, rep, subject: str) -> tuple[str, int]:
    sf_id = harness.sf_create(rep.owner_id, subject, Priority="Normal")
    harness.run()
    return sf_id, harness.sc_by_subject(rep, subject).id


def _planned(harness: SyncHarness, dag_run_id: str) -> tuple[pipeline.RunContext, dict[str, Any], list[dict]]:
    """Plan, extract and diff, step by step as the DAG's tasks do; the load is left to the test."""
    run = harness.pipeline_run(dag_run_id)
    plan = pipeline.plan_run(run)
    return run, plan, [pipeline.diff_shard(run, pipeline.extract_shard(run, s)) for s in plan["shards"]]


def _finish(run: pipeline.RunContext, plan: dict[str, Any], loaded: list[dict]) -> dict[str, Any]:
    return pipeline.report(run, plan, loaded, pipeline.publish_watermarks(run, plan, loaded))


def test_a_salesforce_edit_made_between_diff_and_load_is_not_overwritten(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    sf_id, task_id = _linked(harness, rep, "pricing call")
    harness.sc_update(rep, task_id, subject="pricing call (SC)")
    run, plan, diffed = _planned(harness, "guard-between-diff-and-load")
    assert sum(d["planned"]["sc_to_sf"]["update"] for d in diffed) == 1
    time.sleep(1.05)  # a later second: Salesforce's edit is the latest change
    harness.sf_update(sf_id, Subject="pricing call (SF)", Priority="High")

    _finish(run, plan, [pipeline.load_shard(run, d) for d in diffed])

    record = harness.sf_task(sf_id)
    assert (record["Subject"], record["Priority"]) == ("pricing call (SF)", "High")
    task = harness.sc_task(task_id)
    assert (task.subject, task.priority) == ("pricing call (SF)", "high")  # the whole record, not a mix
    [conflict] = harness.conflicts()
    assert (conflict.winner, conflict.rule, conflict.task_id) == (WINNER_SF, RULE_LATEST_WINS, task_id)
    assert conflict.sc_version["subject"] == "pricing call (SC)"
    assert (conflict.sf_version["subject"], conflict.sf_version["priority"]) == ("pricing call (SF)", "High")
    assert conflict.sf_modified_at > conflict.sc_modified_at

    harness.run()  # the next run agrees: nothing flips back
    assert harness.sf_task(sf_id)["Subject"] == "pricing call (SF)"
    assert harness.sc_task(task_id).subject == "pricing call (SF)"
    assert len(harness.conflicts()) == 1


def test_a_deletion_on_either_side_against_an_edit_made_between_diff_and_load_wins(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    sf_deletes_sf, sf_deletes = _linked(harness, rep, "demo prep")
    sc_deletes_sf, sc_deletes = _linked(harness, rep, "send agenda")
    harness.sc_update(rep, sf_deletes, subject="demo prep (SC)")
    harness.sc_delete(rep, sc_deletes)
    run, plan, diffed = _planned(harness, "guard-deletions-between-diff-and-load")
    harness.sf_delete(sf_deletes_sf)
    harness.sf_update(sc_deletes_sf, Subject="send agenda (SF)")

    _finish(run, plan, [pipeline.load_shard(run, d) for d in diffed])

    assert harness.sf_row(sf_deletes_sf)["IsDeleted"] is True
    assert harness.sf_row(sc_deletes_sf)["IsDeleted"] is True
    assert harness.sc_tasks(rep) == []
    assert harness.open_errors() == []  # the edit was not sent to a deleted record
    by_task = {c.task_id: c for c in harness.conflicts()}
    assert (by_task[sf_deletes].rule, by_task[sf_deletes].winner) == (RULE_DELETE_WINS, WINNER_SF)
    assert by_task[sf_deletes].sc_version["subject"] == "demo prep (SC)"
    assert (by_task[sc_deletes].rule, by_task[sc_deletes].winner) == (RULE_DELETE_WINS, WINNER_SC)
    assert by_task[sc_deletes].sf_version["subject"] == "send agenda (SF)"


def test_an_airflow_retry_of_the_load_after_a_salesforce_edit_does_not_roll_it_back(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    sf_id, task_id = _linked(harness, rep, "contract review")
    done_sf_id, done_id = _linked(harness, rep, "send recap")
    harness.sc_update(rep, task_id, subject="contract review (SC)")
    harness.sc_complete(rep, done_id)
    run, plan, diffed = _planned(harness, "guard-retried-load")
    [pipeline.load_shard(run, d) for d in diffed]  # the first attempt writes, then its worker is lost
    assert harness.sf_task(sf_id)["Subject"] == "contract review (SC)"
    time.sleep(1.05)
    harness.sf_update(sf_id, Subject="contract review (SF, after the push)")
    harness.sf_update(done_sf_id, Status="In Progress")

    # Airflow retries the load task: the same plan, the same XCom input, sent again.
    _finish(run, plan, [pipeline.load_shard(run, d) for d in diffed])

    assert harness.sf_task(sf_id)["Subject"] == "contract review (SF, after the push)"
    assert harness.sf_task(done_sf_id)["Status"] == "In Progress"
    harness.run()
    assert harness.sc_task(task_id).subject == "contract review (SF, after the push)"
    assert harness.sc_task(done_id).status == "open"
    assert harness.sf_task(sf_id)["Subject"] == "contract review (SF, after the push)"


@pytest.mark.parametrize("shards", [1, 2], ids=["one-shard", "two-shards"])
def test_a_reps_action_on_a_task_reassigned_to_another_rep_is_not_written_to_salesforce(
    harness: SyncHarness, monkeypatch: pytest.MonkeyPatch, shards: int,
) -> None:
    """In one shard the diff sees the move; in two, Ava's shard does not read Ben's records and only the
    re-read before the write can see the new owner."""
    monkeypatch.setenv("SALES_CONNECT_SYNC_SHARDS", str(shards))
    ava, ben = harness.rep(0), harness.rep(1)
    edited_sf, edited = _linked(harness, ava, "handover call")
    deleted_sf, deleted = _linked(harness, ava, "handover notes")
    harness.sf_update(edited_sf, OwnerId=ben.owner_id)
    harness.sf_update(deleted_sf, OwnerId=ben.owner_id)
    harness.sc_update(ava, edited, subject="handover call (Ava's edit)")
    harness.sc_delete(ava, deleted)

    harness.run()

    # Nothing Ava did reaches Ben's records.
    record = harness.sf_task(edited_sf)
    assert (record["Subject"], record["OwnerId"]) == ("handover call", ben.owner_id)
    assert harness.sf_row(deleted_sf)["IsDeleted"] is False
    assert harness.sc_tasks(ava) == []
    assert sorted(t.subject for t in harness.sc_tasks(ben)) == ["handover call", "handover notes"]
    by_task = {c.task_id: c for c in harness.conflicts()}
    assert set(by_task) == {edited, deleted}
    for conflict in by_task.values():
        assert (conflict.rule, conflict.winner, conflict.user_id) == (RULE_OWNER_CHANGED, WINNER_SF, ava.user_id)
    assert by_task[edited].sc_version["subject"] == "handover call (Ava's edit)"
    assert "deleted_at" in by_task[deleted].sc_version
    assert by_task[edited].sf_version["subject"] == "handover call"

    harness.run()
    assert harness.sf_task(edited_sf)["Subject"] == "handover call"
    assert len(harness.conflicts()) == 2
