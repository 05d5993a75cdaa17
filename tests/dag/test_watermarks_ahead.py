"""Issue 15 #7: a watermark later than Salesforce's current time (the connection moved to another
org, a clock corrected) is clamped to the server's time at the start of the read, recorded in the
run's history and logged, so it hides no later change; a dry run clamps only its own windows."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from dag_harness import SyncHarness, now

from task_sync import ledger

DAY = dt.timedelta(days=1)


def _ledger_times(harness: SyncHarness) -> dict[str, dt.datetime]:
    """Every time watermark in the durable ledger, as ``shard.field``."""
    with harness.store.session() as s:
        marks = ledger.load_watermarks(s)
    return {f"{key}.{name}": value for key, mark in marks.items()
            for name, value in (("sf_modstamp", mark.sf_modstamp), ("sf_deleted_until", mark.sf_deleted_until))
            if value is not None}


def _clamped(history: Any) -> set[str]:
    note = history.counts.get(ledger.WATERMARKS_CLAMPED) or {}
    return {f"{m['shard_key']}.{m['field']}" for m in note.get("marks", []) if m["source"] == "ledger"}


def test_a_watermark_ahead_of_salesforce_is_clamped_and_hides_no_later_change(
    harness: SyncHarness, caplog: pytest.LogCaptureFixture
) -> None:
    rep = harness.rep(0)
    doomed = harness.sf_create(rep.owner_id, "linked before the clock was corrected")
    harness.run()
    task = harness.sc_by_subject(rep, "linked before the clock was corrected")
    # The connection pointed at an org whose clock ran three days ahead: its runs left their watermarks there.
    with harness.salesforce_clock(now() + 3 * DAY):
        harness.run()
    ahead = _ledger_times(harness)
    assert ahead and all(value > now() + 2 * DAY for value in ahead.values()), ahead

    dry = harness.run(dry_run=True)
    assert _clamped(dry) == set(ahead) and dry.counts[ledger.WATERMARKS_CLAMPED]["persisted"] is False
    assert _ledger_times(harness) == ahead  # a dry run writes nothing

    caplog.set_level(logging.WARNING, logger="task_sync.watermark_clamp")
    corrected = harness.run()
    note = corrected.counts[ledger.WATERMARKS_CLAMPED]
    assert _clamped(corrected) == set(ahead) and note["persisted"] is True
    assert "ahead of Salesforce's time clamped" in corrected.message
    assert note["message"] in caplog.text
    clamped_to = dt.datetime.fromisoformat(note["clamped_to"])
    assert all(value <= clamped_to + dt.timedelta(seconds=1) for value in _ledger_times(harness).values())

    # Changes after the corrected run, read a few minutes later: none is hidden behind the old marks.
    harness.sf_create(rep.owner_id, "made after the clock was corrected")
    harness.sf_delete(doomed)
    harness.emu.advance_clock(180)
    try:
        later = harness.run()
    finally:
        harness.emu.set_clock(now())
    assert later.counts["sf_to_sc"]["create"] == 1 and later.counts["sf_to_sc"]["delete"] == 1, later.counts
    assert harness.sc_by_subject(rep, "made after the clock was corrected") is not None
    assert harness.sc_task(task.id).deleted_at is not None
    assert ledger.WATERMARKS_CLAMPED not in later.counts and later.message is None
