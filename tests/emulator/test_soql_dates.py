"""The calendar behind SOQL's relative date literals and datetime literal parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sf_emulator.soql.dates import DayRange, format_datetime, parse_datetime_literal, relative_range

WED = date(2024, 5, 1)  # a Wednesday


@pytest.mark.parametrize(
    ("literal", "n", "today", "first", "last"),
    [
        ("TODAY", None, WED, WED, WED),
        ("YESTERDAY", None, date(2024, 3, 1), date(2024, 2, 29), date(2024, 2, 29)),
        ("TOMORROW", None, date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 1)),
        ("THIS_WEEK", None, WED, date(2024, 4, 28), date(2024, 5, 4)),  # weeks start on Sunday
        ("THIS_WEEK", None, date(2024, 4, 28), date(2024, 4, 28), date(2024, 5, 4)),  # on the Sunday itself
        ("THIS_WEEK", None, date(2024, 5, 4), date(2024, 4, 28), date(2024, 5, 4)),  # on the Saturday
        ("LAST_WEEK", None, WED, date(2024, 4, 21), date(2024, 4, 27)),
        ("NEXT_WEEK", None, WED, date(2024, 5, 5), date(2024, 5, 11)),
        ("THIS_MONTH", None, date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29)),
        ("LAST_MONTH", None, date(2024, 1, 31), date(2023, 12, 1), date(2023, 12, 31)),
        ("NEXT_MONTH", None, date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 31)),
        ("NEXT_MONTH", None, date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 29)),
        ("LAST_90_DAYS", None, WED, WED - timedelta(days=90), WED),
        ("NEXT_90_DAYS", None, WED, date(2024, 5, 2), WED + timedelta(days=90)),
        ("LAST_N_DAYS", 7, WED, date(2024, 4, 24), WED),
        ("LAST_N_DAYS", 0, WED, WED, WED),
        ("NEXT_N_DAYS", 7, WED, date(2024, 5, 2), date(2024, 5, 8)),
        ("N_DAYS_AGO", 3, WED, date(2024, 4, 28), date(2024, 4, 28)),
    ],
)
def test_relative_ranges(literal: str, n: int | None, today: date, first: date, last: date) -> None:
    assert relative_range(literal, n, today) == DayRange(first, last)


def test_a_dst_day_spans_23_hours_of_utc() -> None:
    start, end = DayRange(date(2024, 3, 10), date(2024, 3, 10)).as_instants(ZoneInfo("America/New_York"))
    assert (start, end) == ("2024-03-10T05:00:00.000Z", "2024-03-11T04:00:00.000Z")
    start, end = DayRange(date(2024, 11, 3), date(2024, 11, 3)).as_instants(ZoneInfo("America/New_York"))
    assert (start, end) == ("2024-11-03T04:00:00.000Z", "2024-11-04T05:00:00.000Z")  # 25 hours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:34:56Z", datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)),
        ("2024-05-01T12:34:56.5Z", datetime(2024, 5, 1, 12, 34, 56, 500_000, tzinfo=UTC)),
        ("2024-05-01T12:34:56.123456789Z", datetime(2024, 5, 1, 12, 34, 56, 123_456, tzinfo=UTC)),
        ("2024-05-01T12:34:56+05:00", datetime(2024, 5, 1, 7, 34, 56, tzinfo=UTC)),
        ("2024-05-01T12:34:56-0800", datetime(2024, 5, 1, 20, 34, 56, tzinfo=UTC)),
        ("2024-05-01T00:00:00+00:00", datetime(2024, 5, 1, tzinfo=UTC)),
    ],
)
def test_parse_datetime_literal(text: str, expected: datetime) -> None:
    assert parse_datetime_literal(text) == expected


@pytest.mark.parametrize("text", ["2024-05-01T12:34:56", "2024-02-30T00:00:00Z", "2024-05-01T12:34:56+24:00"])
def test_parse_datetime_literal_rejects_impossible_values(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime_literal(text)


def test_format_datetime_is_fixed_width_utc_with_milliseconds() -> None:
    local = datetime(2024, 5, 1, 1, 2, 3, 45_678, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(local) == "2024-04-30T23:02:03.045Z"
    assert format_datetime(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(datetime(2024, 5, 1))
