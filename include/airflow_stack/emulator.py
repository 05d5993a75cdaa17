"""The stack's Salesforce emulator as seen from outside: its control plane, not its lifecycle.

The launcher starts the emulator as one of its recorded processes (so ``stop``
and the state file cover it like every other component). Tests still need the
emulator's control plane (seed, faults, counters, raw task rows), which
:class:`sf_emulator.process.EmulatorProcess` already speaks; ``StackEmulator``
reuses it for an emulator that is already running, from the JSON line the
emulator announced at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sf_emulator.process import EmulatorError, EmulatorProcess


class StackEmulator(EmulatorProcess):
    """Control-plane client for an emulator the stack started (``start`` refused, ``stop`` only closes HTTP)."""

    def __init__(self, announcement: Mapping[str, Any], log_path: str | Path) -> None:
        super().__init__(state=announcement["state"], log_path=log_path)
        self._info = dict(announcement)

    def start(self) -> EmulatorProcess:
        raise EmulatorError("this emulator belongs to an AirflowStack: start or stop the stack instead")

    def client_credentials(self) -> dict[str, str]:
        """The connected app's OAuth client credentials (what ``salesforce_default`` logs in with)."""
        info = self.info()
        return {"consumer_key": info["consumer_key"], "consumer_secret": info["consumer_secret"]}
