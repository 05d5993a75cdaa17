"""The emulator's clock: real time shifted by an offset that tests can move.

Salesforce stamps records with its own server clock, and the sync's watermarks
and the recycle-bin/replication windows all key off that clock. Tests need to
jump it (e.g. 16 days ahead to see a purge), so the emulator keeps an offset
from the machine clock instead of a frozen time: after a jump the clock keeps
running, like a real server's.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Timezone-aware UTC "now" = machine time + offset."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        """The emulated current time, truncated to the whole second as Salesforce stamps records."""
        return (datetime.now(UTC) + self._offset).replace(microsecond=0)

    def set(self, moment: datetime) -> None:
        """Make `moment` (must be timezone-aware) the current time; the clock runs on from there."""
        if moment.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware datetime")
        with self._lock:
            self._offset = moment - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, if negative) by `seconds`."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        """Back to the machine's own time."""
        with self._lock:
            self._offset = timedelta(0)
