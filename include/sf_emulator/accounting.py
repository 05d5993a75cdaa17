"""API request accounting: per-family counters, the rolling 24-hour allowance, the limit header.

Salesforce counts every REST request (each query page, describe, collection
call) against a daily allowance and reports usage in `Sforce-Limit-Info`.
Calls are kept as per-minute buckets in SQLite, so usage survives a restart
and the rolling 24-hour window follows the emulator's (movable) clock.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sf_emulator.clock import Clock
from sf_emulator.storage import Store
from sf_emulator.wire import ApiError, to_storage

DEFAULT_DAILY_LIMIT = 15000
_WINDOW = timedelta(hours=24)


def _minute(text: str) -> str:
    return text[:16]


class ApiAccounting:
    """Counts API calls by resource family and enforces the daily allowance."""

    def __init__(self, store: Store, clock: Clock, default_limit: int = DEFAULT_DAILY_LIMIT) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.RLock()
        if store.get_meta("api_limit") is None:
            store.set_meta("api_limit", str(default_limit))
        self._limit = int(store.get_meta("api_limit") or default_limit)
        # Calls per minute inside the rolling window (pruned as it slides) and per family since the last reset.
        self._window: Counter[str] = Counter()
        self._totals: Counter[str] = Counter()
        since = self._window_start()
        for row in store.read("SELECT minute, family, n FROM api_call"):
            self._totals[row["family"]] += row["n"]
            if row["minute"] >= since:
                self._window[row["minute"]] += row["n"]

    def _window_start(self) -> str:
        return _minute(to_storage(self._clock.now() - _WINDOW))

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("the daily API allowance cannot be negative")
        self._store.set_meta("api_limit", str(limit))
        self._limit = limit

    def used(self) -> int:
        """Requests counted within the last 24 hours of emulator time."""
        since = self._window_start()
        with self._lock:
            for minute in [m for m in self._window if m < since]:
                del self._window[minute]
            return sum(self._window.values())

    def charge(self, family: str) -> None:
        """Count one request of `family`, or refuse it with 403 REQUEST_LIMIT_EXCEEDED if the allowance is spent."""
        with self._lock:
            if self.used() >= self.limit:
                raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            minute = _minute(to_storage(self._clock.now()))
            self._window[minute] += 1
            self._totals[family] += 1
            with self._store.transaction() as conn:
                conn.execute(
                    "INSERT INTO api_call (minute, family, n) VALUES (?, ?, 1)"
                    " ON CONFLICT (minute, family) DO UPDATE SET n = n + 1",
                    (minute, family),
                )

    def limit_header(self) -> str:
        """The `Sforce-Limit-Info` value, e.g. 'api-usage=18/15000'."""
        return f"api-usage={self.used()}/{self.limit}"

    def counters(self) -> dict:
        """Calls since the last reset, by family, plus the rolling-window usage."""
        with self._lock:
            by_family = dict(sorted(self._totals.items()))
        return {
            "total": sum(by_family.values()),
            "by_resource": by_family,
            "api_usage": {"used": self.used(), "max": self.limit},
        }

    def reset(self) -> None:
        with self._lock:
            self._window.clear()
            self._totals.clear()
            with self._store.transaction() as conn:
                conn.execute("DELETE FROM api_call")
