"""SPEC §7 and §9 under faults: refused records, transient faults, a spent API allowance, crashes.

Every test runs the real DAG (``dag.test()``) against the emulator, which makes the fault happen
for real: a locked row, a 503, an expired session, ``REQUEST_LIMIT_EXCEEDED``, a write that dies
half-way through a load.
"""

from __future__ import annotations

from collections import Counter

from dag_harness import SyncHarness, now

from sales_connect import repository as repo
from task_sync import pipeline
from task_sync.salesforce import SalesforceUnavailable

LOCK_MESSAGE = "unable to obtain exclusive access to this record"


def test_a_locked_row_is_recorded_retried_and_does_not_stop_the_others(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    ids = [harness.sc_create(rep, f"call back {n}") for n in range(3)]
    harness.run()
    sf_ids = [harness.link_of(i).sf_id for i in ids]
    for n, task_id in enumerate(ids):
        harness.sc_update(rep, task_id, subject=f"call back {n}, moved to Friday")
    harness.emu.lock_rows([sf_ids[1]], count=1)

    refused = harness.run(expect="partial")

    subjects = [harness.sf_task(s)["Subject"] for s in sf_ids]
    assert subjects == ["call back 0, moved to Friday", "call back 1", "call back 2, moved to Friday"]
    assert refused.counts["sc_to_sf"]["update"] == 2 and refused.counts["errors"] == 1
    assert "refused" in refused.message
    (error,) = harness.open_errors()
    assert (error.task_id, error.sf_id, error.error_code) == (ids[1], sf_ids[1], "UNABLE_TO_LOCK_ROW")
    assert LOCK_MESSAGE in error.message and error.run_id == refused.id and error.attempts == 1

    backing_off = harness.run()  # the back-off (5 minutes) has not expired: the record waits

    assert harness.sf_task(sf_ids[1])["Subject"] == "call back 1"
    assert backing_off.counts["sc_to_sf"]["update"] == 0
    assert [e.id for e in harness.open_errors()] == [error.id]

    with harness.store.session() as s:
        repo.request_retry(s, error.id, rep.user_id)
    retried = harness.run()

    assert harness.sf_task(sf_ids[1])["Subject"] == "call back 1, moved to Friday"
    assert retried.counts["sc_to_sf"]["update"] == 1 and retried.status == "success"
    assert harness.open_errors() == []
    assert harness.error(error.id).resolved_at is not None


def test_503s_on_queries_and_collection_calls_are_retried_and_the_run_succeeds(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    harness.run()
    harness.sf_create(rep.owner_id, "from Salesforce")
    harness.sc_create(rep, "from Sales Connect")
    harness.emu.add_fault("http_503", count=2, path="/query")
    harness.emu.add_fault("http_503", count=1, path="/composite/sobjects", method="POST")

    history = harness.run()

    assert harness.armed_faults() == []  # every 503 was served, and retried past
    assert sorted(t.subject for t in harness.sc_tasks(rep)) == ["from Sales Connect", "from Salesforce"]
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == ["from Sales Connect", "from Salesforce"]
    assert history.counts["sf_to_sc"]["create"] == 1 and history.counts["sc_to_sf"]["create"] == 1


def test_an_expired_session_is_renewed_and_the_run_succeeds(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    harness.sf_create(rep.owner_id, "imported after the session was renewed")
    harness.emu.add_fault("expired_session", count=1)

    harness.run()

    assert harness.armed_faults() == []
    assert [t.subject for t in harness.sc_tasks(rep)] == ["imported after the session was renewed"]


def test_request_limit_exceeded_stops_the_run_cleanly_and_the_next_run_finishes(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    harness.run()  # a new connection's first run also checks Sales_Connect_Id__c (one describe)
    reads = harness.run().api_calls  # a later run with nothing to write: what reading costs
    sf_side = harness.sf_create(rep.owner_id, "made in Salesforce before the limit")
    ids = [harness.sc_create(rep, f"cadence step {n}") for n in range(450)]  # three collection calls
    used = harness.emu.counters()["api_usage"]["used"]
    harness.emu.set_api_limit(used + reads + 1)  # the reads and one collection call, then the limit

    stopped = harness.run(expect="failed")

    assert "REQUEST_LIMIT_EXCEEDED" in stopped.message and "allowance" in stopped.message
    assert stopped.counts["sc_to_sf"]["create"] == 200 and stopped.counts["sf_to_sc"]["create"] == 1
    assert sum(harness.link_of(i) is not None for i in ids) == 200
    assert harness.open_errors() == []  # the allowance is not a record's fault
    harness.emu.set_api_limit(15000)  # (this test's own look at Salesforce needs allowance too)
    assert len(harness.sf_tasks(rep.owner_id)) == 201

    finished = harness.run()

    assert finished.counts["sc_to_sf"]["create"] == 250
    pushed = Counter(t["Sales_Connect_Id__c"] for t in harness.sf_tasks(rep.owner_id))
    assert set(pushed) == {harness.external_id(i) for i in ids} | {None} and max(pushed.values()) == 1
    assert all(harness.link_of(i) is not None for i in ids)
    assert sum(t.subject == "made in Salesforce before the limit" for t in harness.sc_tasks(rep)) == 1
    assert harness.link_of(harness.sc_by_subject(rep, "made in Salesforce before the limit").id).sf_id == sf_side


def test_no_allowance_at_all_fails_the_run_at_once_with_the_reason_in_the_history(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    harness.sf_create(rep.owner_id, "waits for the allowance")
    harness.emu.set_api_limit(harness.emu.counters()["api_usage"]["used"])

    stopped = harness.run(expect="failed")

    assert "REQUEST_LIMIT_EXCEEDED" in stopped.message
    assert harness.sc_tasks(rep) == []
    harness.emu.set_api_limit(15000)
    harness.run()
    assert [t.subject for t in harness.sc_tasks(rep)] == ["waits for the allowance"]


def test_a_crash_after_load_before_the_watermark_loses_nothing_and_duplicates_nothing(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    sc_old = harness.sc_create(rep, "pushed before the crash")
    sf_old = harness.sf_create(rep.owner_id, "imported before the crash")
    harness.run()
    harness.sc_update(rep, sc_old, priority="high")
    harness.sf_update(sf_old, Status="Completed")
    sc_new = harness.sc_create(rep, "created in Sales Connect, then the crash")
    sf_new = harness.sf_create(rep.owner_id, "created in Salesforce, then the crash")

    crashed = harness.pipeline_run("crashed-after-load")
    run_plan = pipeline.plan_run(crashed)
    loaded = [pipeline.load_shard(crashed, pipeline.diff_shard(crashed, pipeline.extract_shard(crashed, shard)))
              for shard in run_plan["shards"]]
    assert all(s["status"] == "success" for s in loaded)
    # ...the worker dies here: no publish_watermarks, no report.

    harness.run()

    _assert_both_sides_hold_each_change_once(harness, rep, {
        "pushed before the crash", "imported before the crash", "created in Sales Connect, then the crash",
        "created in Salesforce, then the crash",
    })
    assert harness.sf_task(harness.link_of(sc_old).sf_id)["Priority"] == "High"
    assert harness.sc_by_subject(rep, "imported before the crash").completed_at is not None
    assert harness.link_of(sc_new) is not None
    assert harness.link_of(harness.sc_by_subject(rep, "created in Salesforce, then the crash").id).sf_id == sf_new


def test_a_crash_half_way_through_the_salesforce_writes_is_finished_without_duplicates(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    harness.run()
    ids = [harness.sc_create(rep, f"sequence step {n}") for n in range(450)]  # three collection calls
    harness.emu.add_fault("delay", count=1, path="/composite/sobjects", method="POST", delay_ms=1)
    harness.emu.add_fault("http_500", count=4, path="/composite/sobjects", method="POST")  # outlasts the retries

    crashed = harness.pipeline_run("crashed-mid-load")
    run_plan = pipeline.plan_run(crashed)
    (shard,) = [s for s in run_plan["shards"] if rep.user_id in s["user_ids"]]
    diffed = pipeline.diff_shard(crashed, pipeline.extract_shard(crashed, shard))
    try:
        pipeline.load_shard(crashed, diffed)
    except SalesforceUnavailable:
        pass  # the worker's load dies with Salesforce failing after the first collection call
    else:
        raise AssertionError("the load was expected to die on the second collection call")
    assert harness.armed_faults() == []
    assert len(harness.sf_tasks(rep.owner_id)) == 200

    finished = harness.run()

    pushed = Counter(t["Sales_Connect_Id__c"] for t in harness.sf_tasks(rep.owner_id))
    assert set(pushed) == {harness.external_id(i) for i in ids} and max(pushed.values()) == 1
    assert all(harness.link_of(i) is not None for i in ids)
    assert finished.counts["sc_to_sf"]["create"] == 250


def test_airflow_retrying_a_load_that_died_half_way_duplicates_nothing(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    harness.run()
    ids = [harness.sc_create(rep, f"follow-up {n}") for n in range(250)]  # two collection calls
    harness.emu.add_fault("delay", count=1, path="/composite/sobjects", method="POST", delay_ms=1)
    harness.emu.add_fault("http_500", count=4, path="/composite/sobjects", method="POST")

    history = harness.run()  # load's first try dies after 200 records; Airflow retries it (20 s later)

    assert harness.armed_faults() == []
    pushed = Counter(t["Sales_Connect_Id__c"] for t in harness.sf_tasks(rep.owner_id))
    assert set(pushed) == {harness.external_id(i) for i in ids} and max(pushed.values()) == 1
    assert history.counts["sc_to_sf"]["create"] == 250 and history.status == "success"


def _assert_both_sides_hold_each_change_once(harness: SyncHarness, rep, subjects: set[str]) -> None:
    sc = Counter(t.subject for t in harness.sc_tasks(rep))
    sf = Counter(t["Subject"] for t in harness.sf_tasks(rep.owner_id))
    assert sc == sf == Counter(subjects), (sc, sf)




def test_a_run_with_no_changes_costs_the_same_few_calls_for_3_reps_as_for_30(harness: SyncHarness) -> None:
    for index in range(3):
        harness.rep(index)
    harness.run()
    three = _quiet_run_calls(harness)

    seeded = harness.emu.seed(users=[
        {"Username": f"rep{n}@salesconnect.example", "FirstName": "Rep", "LastName": f"Number {n}",
         "Email": f"rep{n}@salesconnect.example", "IsActive": True, "TimeZoneSidKey": "America/New_York"}
        for n in range(27)
    ])["users"]
    with harness.store.session() as s:
        for n, owner in enumerate(seeded):
            user = repo.create_user(s, email=f"rep{n}@salesconnect.example", name=f"rep{n}", sf_owner_id=owner,
                                    time_zone="UTC", login=f"rep{n}")
            s.flush()
            repo.set_sync_enabled(s, user.id, True, now())
    harness.run()  # their first sync
    thirty = _quiet_run_calls(harness)

    assert thirty == three <= 6  # plan (clock, getDeleted) and one query per shard


def _quiet_run_calls(harness: SyncHarness) -> int:
    """API calls of a run with nothing to move: recorded in the history, and counted by Salesforce."""
    harness.emu.reset_counters()
    history = harness.run()
    assert history.counts["sf_to_sc"] == history.counts["sc_to_sf"] == dict.fromkeys(
        ("create", "update", "complete", "delete"), 0)
    assert history.api_calls == harness.emu.counters()["total"]
    return history.api_calls


def test_an_allowance_spent_during_extract_fails_the_run_with_the_reason_in_the_history(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    harness.run()
    harness.sf_create(rep.owner_id, "waits for tomorrow's allowance")
    plan_calls = 3  # what the plan step spends gets through; the extract's query is refused
    harness.emu.set_api_limit(harness.emu.counters()["api_usage"]["used"] + plan_calls)

    stopped = harness.run(expect="failed")

    assert "did not finish" in stopped.message and "REQUEST_LIMIT_EXCEEDED" in stopped.message
    harness.emu.set_api_limit(15000)
    harness.run()
    assert [t.subject for t in harness.sc_tasks(rep)] == ["waits for tomorrow's allowance"]


def test_writes_whose_answer_was_lost_are_sent_again_without_duplicates(harness: SyncHarness) -> None:
    """Salesforce carried the write out but the answer never came back (a 503 after the fact): the
    retry must land on the same records, not create second copies, and the counts say what moved."""
    rep = harness.rep(0)
    harness.run()
    created = [harness.sc_create(rep, f"first call {n}") for n in range(3)]
    harness.emu.add_fault("response_lost", count=1, path="/composite/sobjects", method="POST")

    pushed = harness.run()

    assert harness.armed_faults() == []
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == [f"first call {n}" for n in range(3)]
    assert pushed.counts["sc_to_sf"]["create"] == 3 and pushed.status == "success"
    sf_ids = [harness.link_of(i).sf_id for i in created]
    harness.sc_update(rep, created[0], subject="first call 0, left a voicemail")
    harness.sc_delete(rep, created[1])
    harness.emu.add_fault("response_lost", count=1, path="/composite/sobjects", method="PATCH")
    harness.emu.add_fault("response_lost", count=1, path="/composite/sobjects", method="DELETE")

    changed = harness.run()

    assert harness.armed_faults() == []
    assert harness.sf_task(sf_ids[0])["Subject"] == "first call 0, left a voicemail"
    assert sorted(t["Subject"] for t in harness.sf_tasks(rep.owner_id)) == [
        "first call 0, left a voicemail", "first call 2"]
    assert changed.counts["sc_to_sf"]["update"] == 1 and changed.counts["sc_to_sf"]["delete"] == 1
    assert harness.open_errors() == [] and changed.status == "success"
    assert sorted(t.subject for t in harness.sc_tasks(rep)) == ["first call 0, left a voicemail", "first call 2"]
