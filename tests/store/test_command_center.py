"""The Command Center: open tasks due today or tomorrow in the user's own time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from sales_connect import repository as repo
from sales_connect.db import Store
from sales_connect.errors import ValidationError

D = dt.date


def _user_with_tasks(store: Store, email: str, time_zone: str, dues: list[dt.date]) -> int:
    with store.session() as session:
        user = repo.create_user(session, email=email, name=email, time_zone=time_zone)
        for due in dues:
            repo.create_task(session, user.id, subject=f"due {due.isoformat()}", due_date=due)
        return user.id


def _shown(store: Store, user_id: int, now: dt.datetime) -> list[str]:
    with store.session() as session:
        return [t.subject for t in repo.command_center(session, user_id, now)]


def _days(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range(count)]


def test_date_line_same_instant_different_today(store: Store) -> None:
    dues = _days(D(2026, 6, 13), 6)  # 13th .. 18th
    kiritimati = _user_with_tasks(store, "kiri@example.com", "Pacific/Kiritimati", dues)  # UTC+14
    pago_pago = _user_with_tasks(store, "pago@example.com", "Pacific/Pago_Pago", dues)  # UTC-11
    instant = dt.datetime(2026, 6, 15, 11, 0, tzinfo=dt.UTC)  # Kiritimati 16th 01:00, Pago Pago 15th 00:00
    assert _shown(store, kiritimati, instant) == ["due 2026-06-16", "due 2026-06-17"]
    assert _shown(store, pago_pago, instant) == ["due 2026-06-15", "due 2026-06-16"]
    # One minute earlier it is still the 14th in Pago Pago.
    assert _shown(store, pago_pago, instant - dt.timedelta(minutes=1)) == ["due 2026-06-14", "due 2026-06-15"]


@pytest.mark.parametrize(
    ("instant", "today"),
    [
        # Spring forward, 2026-03-08 02:00 EST -> 03:00 EDT.
        (dt.datetime(2026, 3, 8, 4, 59, tzinfo=dt.UTC), D(2026, 3, 7)),  # 23:59 EST
        (dt.datetime(2026, 3, 8, 5, 0, tzinfo=dt.UTC), D(2026, 3, 8)),  # 00:00 EST
        (dt.datetime(2026, 3, 9, 3, 59, tzinfo=dt.UTC), D(2026, 3, 8)),  # 23:59 EDT
        (dt.datetime(2026, 3, 9, 4, 0, tzinfo=dt.UTC), D(2026, 3, 9)),  # 00:00 EDT (a fixed UTC-5 says the 8th)
        # Fall back, 2026-11-01 02:00 EDT -> 01:00 EST.
        (dt.datetime(2026, 11, 1, 3, 59, tzinfo=dt.UTC), D(2026, 10, 31)),  # 23:59 EDT
        (dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC), D(2026, 11, 1)),  # 00:00 EDT
        (dt.datetime(2026, 11, 2, 4, 59, tzinfo=dt.UTC), D(2026, 11, 1)),  # 23:59 EST (a fixed UTC-4 says the 2nd)
        (dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC), D(2026, 11, 2)),  # 00:00 EST
    ],
)
def test_dst_changes_in_new_york(store: Store, instant: dt.datetime, today: dt.date) -> None:
    dues = _days(D(2026, 3, 6), 5) + _days(D(2026, 10, 30), 5)
    rep = _user_with_tasks(store, "ny@example.com", "America/New_York", dues)
    tomorrow = today + dt.timedelta(days=1)
    assert _shown(store, rep, instant) == [f"due {today.isoformat()}", f"due {tomorrow.isoformat()}"]


def test_only_open_live_dated_tasks_in_order(store: Store) -> None:
    now = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
    rep = _user_with_tasks(store, "rep@example.com", "UTC", [])
    with store.session() as session:

        def make(subject: str, due: dt.date | None):  # type: ignore[no-untyped-def]
            return repo.create_task(session, rep, subject=subject, due_date=due)

        tomorrow_b, today_a = make("tomorrow b", D(2026, 6, 16)), make("today a", D(2026, 6, 15))
        make("tomorrow c", D(2026, 6, 16))
        make("no due date", None)
        make("day after", D(2026, 6, 17))
        make("yesterday", D(2026, 6, 14))
        done = make("done today", D(2026, 6, 15))
        gone = make("deleted today", D(2026, 6, 15))
    with store.session() as session:
        repo.complete_task(session, rep, done.id, expected_version=1)
        repo.delete_task(session, rep, gone.id, expected_version=1)
    assert tomorrow_b.id < today_a.id
    assert _shown(store, rep, now) == ["today a", "tomorrow b", "tomorrow c"]


def test_now_must_be_aware(store: Store) -> None:
    rep = _user_with_tasks(store, "rep@example.com", "UTC", [])
    with store.session() as session, pytest.raises(ValidationError, match="now"):
        repo.command_center(session, rep, dt.datetime(2026, 6, 15, 12, 0))
