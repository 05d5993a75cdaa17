"""Issue 10 #9: a per-record error closes when its cause goes away (the record was deleted, or the
change that was refused was undone), a permanent refusal stops retrying after a bounded number of
attempts and waits in the history for a retry, and records due for a retry are read from Salesforce
once per run, not once per shard."""

from __future__ import annotations

import datetime as dt

from dag_harness import Rep, SyncHarness, now
from sqlalchemy import select

from sales_connect import repository as repo
from sales_connect.models import SyncError, Task
from task_sync.retry_policy import MAX_PERMANENT_ATTEMPTS
from task_sync.shards import shard_index

INACTIVE_USERNAME = "dan.former@salesconnect.example"  # the emulator's default org keeps him, inactive


def _back_off_runs_out(harness: SyncHarness) -> None:
    """As if the retry back-off had passed: every open error that still has a retry planned is due now."""
    with harness.store.session() as s:
        for error in s.scalars(select(SyncError).where(SyncError.resolved_at.is_(None),
                                                       SyncError.next_retry_at.is_not(None))):
            error.next_retry_at = now() - dt.timedelta(seconds=1)


def _rep_of_inactive_salesforce_user(harness: SyncHarness) -> Rep:
    (owner,) = [u["Id"] for u in harness.sf.query(
        f"SELECT Id FROM User WHERE Username = '{INACTIVE_USERNAME}'")["records"]]
    with harness.store.session() as s:
        user = repo.create_user(s, email=INACTIVE_USERNAME, name="dan", sf_owner_id=owner, login="dan.former")
        s.flush()
        user_id = user.id
    harness.enable(user_id)
    return Rep(user_id, owner, "dan.former")


def test_a_push_salesforce_keeps_refusing_stops_after_bounded_attempts_and_waits_for_a_retry(
    harness: SyncHarness,
) -> None:
    dan = _rep_of_inactive_salesforce_user(harness)
    harness.sc_create(dan, "follow up with the old account")

    for attempt in range(1, MAX_PERMANENT_ATTEMPTS + 1):
        harness.run(expect="partial")
        (error,) = harness.open_errors()
        assert (error.error_code, error.attempts) == ("INACTIVE_OWNER_OR_USER", attempt)
        _back_off_runs_out(harness)

    assert error.next_retry_at is None  # no more automatic retries: it waits in the history
    harness.emu.reset_counters()
    waiting = harness.run()
    assert harness.error(error.id).attempts == MAX_PERMANENT_ATTEMPTS
    assert harness.emu.counters()["by_resource"].get("collections", 0) == 0, harness.emu.counters()
    assert waiting.counts["errors"] == 0

    with harness.store.session() as s:  # the history's "Retry" button
        repo.request_retry(s, error.id, dan.user_id)
    harness.run(expect="partial")

    retried = harness.error(error.id)
    assert retried.attempts == MAX_PERMANENT_ATTEMPTS + 1 and retried.resolved_at is None
    assert retried.next_retry_at is None  # one press, one attempt


def test_errors_close_when_the_record_is_deleted_or_the_refused_change_is_undone(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    edited = harness.sc_create(rep, "renewal call")
    with harness.store.session() as s:
        too_long = Task(user_id=rep.user_id, subject="x" * 300, created_at=now())
        s.add(too_long)
        s.flush()
        too_long_id = too_long.id
    poisoned = harness.sf_seed(rep.owner_id, "imported\x00 with a NUL")
    harness.run(expect="partial")
    with harness.store.session() as s:  # longer than the app's form allows: as an import or an older client writes
        s.get(Task, edited).subject = "renewal call " + "y" * 250
    harness.run(expect="partial")
    assert {(e.task_id, e.sf_id) for e in harness.open_errors()} == {
        (edited, harness.link_of(edited).sf_id), (too_long_id, None), (None, poisoned)}

    harness.sc_update(rep, edited, subject="renewal call")  # undone: both sides agree again
    harness.sc_delete(rep, too_long_id)  # never pushed, now deleted
    harness.sf_delete(poisoned)  # never imported, now in the recycle bin
    settled = harness.run()

    assert harness.open_errors() == []
    assert settled.counts["sc_to_sf"] == dict.fromkeys(("create", "update", "complete", "delete"), 0)
    assert harness.sf_task(harness.link_of(edited).sf_id)["Subject"] == "renewal call"


def test_records_due_for_a_retry_cost_one_query_per_run_not_one_per_shard(harness: SyncHarness) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    assert shard_index(ava.user_id, 2) != shard_index(ben.user_id, 2)  # the harness runs 2 shards
    for rep in (ava, ben):
        # An hour old: inside the first sync's 24 hours, outside later runs' overlap (only the retry reads it).
        harness.sf_seed(rep.owner_id, f"{rep.login}: a NUL\x00 from a data import",
                        modified=now() - dt.timedelta(hours=1))
    harness.run(expect="partial")
    assert len(harness.open_errors()) == 2
    backing_off = harness.run()  # the errors are not due: what a quiet run costs

    _back_off_runs_out(harness)
    retried = harness.run(expect="partial")

    assert retried.api_calls == backing_off.api_calls + 1
    assert [e.attempts for e in harness.open_errors()] == [2, 2]  # each read, and refused, once
