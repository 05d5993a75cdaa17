"""The Date header of every answer is the emulator's clock, which tests move (as Salesforce's server time)."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from sf_emulator.process import EmulatorProcess


def test_date_header_follows_the_moved_clock(emu: EmulatorProcess, raw) -> None:
    moved = dt.datetime(2027, 3, 14, 15, 9, 26, tzinfo=dt.UTC)
    emu.set_clock(moved)

    answer = raw.get("limits")

    assert answer.status_code == 200
    assert abs(parsedate_to_datetime(answer.headers["Date"]) - moved) < dt.timedelta(seconds=30)
    assert answer.raw.headers.getlist("Date") == [answer.headers["Date"]]  # one Date, not uvicorn's as well
