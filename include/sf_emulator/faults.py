"""Fault injection: make chosen requests fail the way a real org sometimes does.

Two kinds: request faults (the next N matching requests answer 503, 500, an
expired-session 401, are delayed, or are carried out and then answer 503 as if the
answer had been lost on the way back), and row locks (writes touching chosen
record ids fail with UNABLE_TO_LOCK_ROW, per record in collection calls, so
the other records of the same call still succeed).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass

from sf_emulator.wire import ApiError, invalid_session

REQUEST_FAULT_KINDS = ("http_503", "http_500", "expired_session", "delay", "response_lost")


@dataclass
class RequestFault:
    """Applies to the next `remaining` requests whose path contains `path` (and whose method is `method`)."""

    id: int
    kind: str
    remaining: int
    path: str | None = None
    method: str | None = None
    delay_ms: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            self.path is None or self.path in path
        )

    def error(self) -> ApiError | None:
        """The error this fault answers with (None for a pure delay)."""
        if self.kind in ("http_503", "response_lost"):
            return ApiError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable; please retry later.")
        if self.kind == "http_500":
            return ApiError(
                500, "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact support: "
                f"{1000000 + self.id}-{self.remaining} (-1)",
            )
        if self.kind == "expired_session":
            return invalid_session()
        return None


@dataclass
class RowLock:
    """Writes to `record_id` fail with UNABLE_TO_LOCK_ROW `remaining` more times (None = until cleared)."""

    record_id: str
    remaining: int | None


class Faults:
    """The registry of armed faults; thread-safe, in memory (faults do not survive a restart)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._requests: list[RequestFault] = []
        self._row_locks: dict[str, RowLock] = {}

    def add_request_fault(
        self, kind: str, count: int = 1, path: str | None = None, method: str | None = None, delay_ms: int = 0
    ) -> RequestFault:
        if kind not in REQUEST_FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(REQUEST_FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if kind == "delay" and delay_ms <= 0:
            raise ValueError("a delay fault needs delay_ms > 0")
        fault = RequestFault(next(self._ids), kind, count, path, method, delay_ms)
        with self._lock:
            self._requests.append(fault)
        return fault

    def lock_rows(self, record_ids: list[str], count: int | None = None) -> list[RowLock]:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or null for 'until cleared')")
        with self._lock:
            locks = [RowLock(record_id, count) for record_id in record_ids]
            self._row_locks.update({lock.record_id: lock for lock in locks})
        return locks

    def take(self, method: str, path: str) -> RequestFault | None:
        """Consume one use of the first armed fault matching this request, if any."""
        with self._lock:
            for fault in self._requests:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._requests.remove(fault)
                    return fault
        return None

    def check_row(self, record_id: str) -> None:
        """Raise UNABLE_TO_LOCK_ROW if `record_id` is locked (consuming one use of the lock)."""
        with self._lock:
            lock = self._row_locks.get(record_id)
            if lock is None:
                return
            if lock.remaining is not None:
                lock.remaining -= 1
                if lock.remaining == 0:
                    del self._row_locks[record_id]
        raise ApiError(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records", [])

    def describe(self) -> dict:
        with self._lock:
            return {
                "requests": [asdict(f) for f in self._requests],
                "row_locks": [asdict(lock) for lock in self._row_locks.values()],
            }

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._row_locks.clear()
