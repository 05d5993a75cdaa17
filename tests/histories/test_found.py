"""Regression tests from shrunk histories the generator found (seed in each docstring).

Defects of issue 10 that other branches are fixing are ``xfail(strict=True)``: the lead removes the
marker when the fix merges (strict, so a fix that lands makes the marker fail loudly).
"""

from __future__ import annotations

import pytest
from generator import Step


def test_a_backfills_history_counts_the_api_call_of_its_window_check(play) -> None:
    """Seeds 100, 102, 104, 107, 109-111: history_api_calls (the backfill's clock call was dropped)."""
    outcome = play([
        Step("add_rep", {"tz": "UTC"}),
        Step("sync", {"rep": 0, "on": True}),
        Step("run", {"kind": "scheduled"}),
        Step("run", {"kind": "backfill"}),
    ])
    assert outcome.violations == []


_ = pytest
