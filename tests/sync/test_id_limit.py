"""A replication window Salesforce refuses as too many ids is asked in contiguous, minute-aligned
halves until each answers; one too short to split fails with a message naming the window."""

from __future__ import annotations

import datetime as dt

import pytest

from task_sync.id_limit import IdLimitExceeded, WindowUnsplittable, ask_in_pieces

START = dt.datetime(2026, 11, 25, 12, 0, 30, tzinfo=dt.UTC)
STAMPS = [START + dt.timedelta(minutes=m) for m in range(0, 64, 2)]  # 32 changes over an hour


def _salesforce(limit: int):
    answered: list[tuple[dt.datetime, dt.datetime]] = []

    def ask(lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
        lo_m, hi_m = lo.replace(second=0), hi.replace(second=0)  # Salesforce ignores the seconds
        found = [s for s in STAMPS if lo_m <= s < hi_m]
        if len(found) > limit:
            raise IdLimitExceeded(f"EXCEEDED_ID_LIMIT: more than {limit} ids")
        answered.append((lo, hi))
        return found

    return ask, answered


def test_a_refused_window_is_answered_by_its_halves_in_order() -> None:
    end = START + dt.timedelta(hours=1, minutes=5)
    ask, answered = _salesforce(limit=5)
    pieces = ask_in_pieces(ask, START, end, what="getUpdated")
    assert [s for piece in pieces for s in piece] == STAMPS
    assert len(pieces) > 1 and all(len(piece) <= 5 for piece in pieces)
    bounds = [b for window in answered for b in window]
    assert bounds[0] == START and bounds[-1] == end
    inner = bounds[1:-1]
    assert inner[::2] == inner[1::2] and all(b.second == 0 for b in inner)  # contiguous, on whole minutes


def test_a_window_too_short_to_split_says_so() -> None:
    ask, _answered = _salesforce(limit=0)
    with pytest.raises(WindowUnsplittable, match="getDeleted 2026-11-25T12:00:30"):
        ask_in_pieces(ask, START, START + dt.timedelta(minutes=3), what="getDeleted")
