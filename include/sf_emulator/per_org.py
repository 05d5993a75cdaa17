"""One helper object per emulated org (a Bulk job registry and its worker), made on first use.

Keyed weakly by the org, so an org a test throws away takes its registry (and the registry's
worker thread's reason to exist) with it; the lock keeps two first requests from making two.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sf_emulator.org import Emulator

T = TypeVar("T")


class PerOrg(Generic[T]):
    """Call with an org: its ``T``, made by ``make(org)`` the first time."""

    def __init__(self, make: Callable[[Emulator], T]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[Emulator, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, org: Emulator) -> T:
        with self._lock:
            made = self._made.get(org)
            if made is None:
                made = self._made[org] = self._make(org)
            return made
