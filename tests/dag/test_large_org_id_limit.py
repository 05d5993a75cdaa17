"""SPEC §8/§9: ``getUpdated`` refuses a window matching more than 600,000 ids (``EXCEEDED_ID_LIMIT``)
instead of answering part of it. A large org must not wedge the sync: the plan splits the window
until Salesforce answers, and what the halves answer is used (a task handed to an owner the sync
does not serve is still found). The emulator's limit is lowered so a few dozen records exceed it."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from dag_harness import SyncHarness, now, sf_time

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def no_retries(sync_dag, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing step fails the run at its first attempt, so the defect shows in seconds, not after
    the DAG's retries (minutes of back-off)."""
    for task in sync_dag.tasks:
        monkeypatch.setattr(task, "retries", 0)


@pytest.mark.usefixtures("no_retries")
def test_more_changed_ids_than_getupdated_answers_splits_the_window(
    harness: SyncHarness, caplog: pytest.LogCaptureFixture
) -> None:
    start = now() - 2 * HOUR
    harness.emu.set_clock(start)  # the last run was two hours ago by Salesforce's clock
    rep = harness.rep(0, enable_at=start)
    outsider = harness.rep(1, enabled=False)
    handed = harness.sf_create(rep.owner_id, "handed to a colleague")
    harness.run()
    assert harness.sc_by_subject(rep, "handed to a colleague") is not None

    # Busy hours in the org: 30 tasks changed by others since, spread over the two hours ...
    harness.emu.generate_tasks(30, owner_ids=[outsider.owner_id], modstamp_from=sf_time(start + HOUR / 12),
                               modstamp_to=sf_time(start + 100 * HOUR / 60))
    # ... and the rep's task handed to someone the sync does not serve (only getUpdated finds it).
    harness.emu.set_clock(start + 105 * HOUR / 60)
    harness.sf_update(handed, OwnerId=outsider.owner_id)
    harness.emu.set_clock(now())
    harness.emu.set_replication_id_limit(10)

    with caplog.at_level(logging.INFO, logger="task_sync"):
        history = harness.run()

    assert harness.sc_by_subject(rep, "handed to a colleague") is None
    assert history.counts["sf_to_sc"]["delete"] == 1
    assert any("EXCEEDED_ID_LIMIT" in r.getMessage() and "split" in r.getMessage() for r in caplog.records)
