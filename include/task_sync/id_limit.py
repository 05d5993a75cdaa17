"""Splitting a replication window until Salesforce answers it (``EXCEEDED_ID_LIMIT``).

``getUpdated`` and ``getDeleted`` refuse a window that matches more than 600,000 ids instead of
answering part of it, and a large org (a mass update, a data load) can make every run's window
that big: the plan would fail on every run, for ever. So a refused window is bisected, on whole
minutes (Salesforce ignores the seconds of both ends, so halves split on a minute neither overlap
nor leave a gap), and each half is asked on its own, the earlier half first. Each split costs one
more call. A window too short to split (each half must stay more than a minute long) is refused
with a clear message rather than retried for ever.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
# Each half of a split must stay longer than the minute Salesforce requires of a window.
MIN_HALF = dt.timedelta(minutes=2)


class IdLimitExceeded(RuntimeError):
    """Salesforce answered ``EXCEEDED_ID_LIMIT``: the window matches too many ids."""


class WindowUnsplittable(RuntimeError):
    """A window as short as Salesforce allows still matches too many ids."""


def _floor_minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def ask_in_pieces(
    ask: Callable[[dt.datetime, dt.datetime], T], start: dt.datetime, end: dt.datetime, *, what: str
) -> list[T]:
    """``ask(start, end)``, or, while Salesforce refuses it as too many ids, ``ask`` over halves of
    it; the answers in chronological order of their windows."""
    answers: list[T] = []
    pending = [(start, end)]
    while pending:
        lo, hi = pending.pop()
        try:
            answers.append(ask(lo, hi))
            continue
        except IdLimitExceeded as exc:
            mid = _floor_minute(lo + (hi - lo) / 2)
            if mid - lo < MIN_HALF or hi - mid < MIN_HALF:
                raise WindowUnsplittable(
                    f"{what} {lo.isoformat()} .. {hi.isoformat()}: Salesforce refuses even this short a "
                    f"window ({exc}); the changes of those minutes are too many to list by id"
                ) from exc
            log.warning("%s %s .. %s: EXCEEDED_ID_LIMIT (%s); split at %s", what, lo.isoformat(), hi.isoformat(),
                        exc, mid.isoformat())
        pending += [(mid, hi), (lo, mid)]  # the earlier half is asked first
    return answers
