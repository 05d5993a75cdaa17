"""Date and datetime values in SOQL: literal parsing, relative date literals and storage formats.

The emulator stores dates as 'YYYY-MM-DD' and datetimes as fixed-width UTC
'YYYY-MM-DDTHH:MM:SS.fffZ' text, so comparing the text compares the instants.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

_DATETIME_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))"
)

#: Literals naming a fixed range relative to today, and those taking ``:n``.
FIXED_LITERALS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
    }
)
N_LITERALS = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO"})


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of calendar days in the query's time zone."""

    first: date
    last: date

    def as_dates(self) -> tuple[str, str]:
        """First and last day in the storage format of date fields."""
        return self.first.isoformat(), self.last.isoformat()

    def as_instants(self, zone: ZoneInfo) -> tuple[str, str]:
        """Start (inclusive) and end (exclusive) UTC instants of the range, as stored datetimes.

        Days begin at local midnight, so a day crossing a DST change lasts 23 or 25 hours.
        """
        start = datetime.combine(self.first, time(), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=zone)
        return format_datetime(start), format_datetime(end)


def format_datetime(value: datetime) -> str:
    """The stored text of an aware datetime: UTC with milliseconds and a Z."""
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}."
        f"{utc.microsecond // 1000:03d}Z"
    )


def parse_datetime_literal(text: str) -> datetime:
    """An aware datetime from a SOQL datetime literal; ValueError if it names no real instant."""
    match = _DATETIME_PARTS.fullmatch(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micros = int((fraction or "0").ljust(6, "0")[:6])
    if zulu:
        zone = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset >= timedelta(hours=24):
            raise ValueError(text)
        zone = timezone(-offset if sign == "-" else offset)
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=zone)


def parse_date_literal(text: str) -> date:
    """A date from 'YYYY-MM-DD'; ValueError if it is not a real day."""
    return date.fromisoformat(text)


def relative_range(name: str, n: int | None, today: date) -> DayRange:
    """The days a relative date literal (TODAY, LAST_N_DAYS:n, ...) covers, seen from ``today``.

    Weeks start on Sunday (the en_US locale). LAST_N_DAYS:n and LAST_90_DAYS
    include today; NEXT_N_DAYS:n and NEXT_90_DAYS start tomorrow.
    """
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    match name:
        case "TODAY":
            return DayRange(today, today)
        case "YESTERDAY":
            return DayRange(today - day, today - day)
        case "TOMORROW":
            return DayRange(today + day, today + day)
        case "THIS_WEEK" | "LAST_WEEK" | "NEXT_WEEK":
            shift = {"THIS_WEEK": 0, "LAST_WEEK": -7, "NEXT_WEEK": 7}[name]
            first = week_start + timedelta(days=shift)
            return DayRange(first, first + timedelta(days=6))
        case "THIS_MONTH":
            return _month(month_start)
        case "LAST_MONTH":
            return _month((month_start - day).replace(day=1))
        case "NEXT_MONTH":
            return _month(month_start + timedelta(days=calendar.monthrange(today.year, today.month)[1]))
        case "LAST_90_DAYS":
            return DayRange(today - timedelta(days=90), today)
        case "NEXT_90_DAYS":
            return DayRange(today + day, today + timedelta(days=90))
        case "LAST_N_DAYS":
            return DayRange(today - timedelta(days=_count(n)), today)
        case "NEXT_N_DAYS":
            return DayRange(today + day, today + timedelta(days=_count(n)))
        case "N_DAYS_AGO":
            ago = today - timedelta(days=_count(n))
            return DayRange(ago, ago)
    raise ValueError(f"unknown date literal {name}")


def _count(n: int | None) -> int:
    if n is None:
        raise ValueError("this date literal needs a day count")
    return n


def _month(first: date) -> DayRange:
    return DayRange(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))
