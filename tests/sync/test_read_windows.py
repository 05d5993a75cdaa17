"""Watermarks and windows (SPEC §5, §8), with ``now`` injected."""

from __future__ import annotations

import datetime as dt

import pytest

from task_sync import windows as w

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def test_window_starts_at_the_earlier_watermark_minus_overlap() -> None:
    xcom, ledger = NOW - HOUR, NOW - 2 * HOUR
    for a, b in ((xcom, ledger), (ledger, xcom)):
        window = w.read_window(a, b, NOW, initial_start=NOW - 10 * DAY)
        assert window == w.Window(NOW - 2 * HOUR - w.LATE_COMMIT_OVERLAP, NOW)


def test_missing_xcom_uses_the_ledger_and_nothing_uses_initial_start() -> None:
    assert w.read_window(None, NOW - HOUR, NOW, NOW - DAY).start == NOW - HOUR - w.LATE_COMMIT_OVERLAP
    assert w.read_window(NOW - HOUR, None, NOW, NOW - DAY).start == NOW - HOUR - w.LATE_COMMIT_OVERLAP
    assert w.read_window(None, None, NOW, NOW - DAY) == w.Window(NOW - DAY, NOW)


def test_window_end_is_salesforce_server_time_and_start_never_passes_it() -> None:
    server = NOW - dt.timedelta(minutes=1)  # the worker's clock runs ahead
    window = w.read_window(NOW, NOW, server, NOW)
    assert window.end == server and window.start <= window.end


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        w.read_window(dt.datetime(2026, 11, 25), None, NOW, NOW)


def test_first_sync_starts_24_hours_before_enable() -> None:
    enabled = NOW - 3 * HOUR
    assert w.first_sync_window(enabled, NOW) == w.Window(enabled - 24 * HOUR, NOW)
    assert w.import_floor(enabled) == enabled - 24 * HOUR


def test_deleted_window_follows_last_coverage() -> None:
    result = w.deleted_window(NOW - HOUR, NOW)
    assert result == w.DeletedWindow(w.Window(NOW - HOUR - w.LATE_COMMIT_OVERLAP, NOW), needs_reconciliation=False)


def test_deleted_window_older_than_15_days_falls_back_to_reconciliation() -> None:
    for covered in (None, NOW - 16 * DAY):
        result = w.deleted_window(covered, NOW)
        assert result.needs_reconciliation
        assert result.window is not None and result.window.start > NOW - w.GET_DELETED_HORIZON


def test_reenable_after_short_break_reads_deletions_since_switch_off() -> None:
    result = w.reenable_deleted_window(NOW - 3 * DAY, NOW)
    assert result == w.DeletedWindow(w.Window(NOW - 3 * DAY, NOW), needs_reconciliation=False)


def test_reenable_after_more_than_15_days_requires_reconciliation() -> None:
    result = w.reenable_deleted_window(NOW - 40 * DAY, NOW)
    assert result.needs_reconciliation
    assert result.window is not None and result.window.start >= NOW - w.GET_DELETED_HORIZON


def test_backfill_window_replays_its_interval_from_the_overlap_before_it() -> None:
    overlap = dt.timedelta(minutes=5)
    changes, deleted = w.backfill_windows(NOW - 2 * DAY, NOW - DAY, NOW, overlap)
    assert changes == w.Window(NOW - 2 * DAY - overlap, NOW - DAY)
    assert deleted == w.DeletedWindow(w.Window(NOW - 2 * DAY - overlap, NOW - DAY), needs_reconciliation=False)


def test_backfill_older_than_15_days_reconciles_deletions() -> None:
    changes, deleted = w.backfill_windows(NOW - 20 * DAY, NOW - 19 * DAY, NOW, dt.timedelta(0))
    assert changes == w.Window(NOW - 20 * DAY, NOW - 19 * DAY)
    assert deleted.needs_reconciliation


def test_backfill_older_than_30_days_fails_fast_naming_window_and_limit() -> None:
    with pytest.raises(w.WindowTooOldError) as error:
        w.backfill_windows(NOW - 31 * DAY, NOW - 30 * DAY, NOW)
    message = str(error.value)
    assert (NOW - 31 * DAY).isoformat() in message and "30 days" in message and "getUpdated" in message
    with pytest.raises(ValueError, match="ends before it starts"):
        w.backfill_windows(NOW - DAY, NOW - 2 * DAY, NOW)


def test_backfill_of_the_last_minute_still_gives_getdeleted_a_valid_span() -> None:
    _, deleted = w.backfill_windows(NOW - dt.timedelta(seconds=30), NOW, NOW)
    assert deleted.window is not None
    assert deleted.window.end == NOW and deleted.window.end - deleted.window.start >= w.MIN_REPLICATION_SPAN
