"""Fixtures for the randomized histories: one emulator per session, a fresh store per test.

``play(steps)`` plays a history (see ``player``) on a reset org and the test's own store, on
SQLite and PostgreSQL (the suite-wide ``store_url``), and returns its ``Outcome``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from generator import Step
from player import Outcome, Player
from world import World

from sf_emulator.process import EmulatorProcess


@pytest.fixture(scope="session")
def history_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(state=tmp_path_factory.mktemp("histories") / "org.sqlite3") as emu:
        yield emu


@pytest.fixture
def play(history_emulator: EmulatorProcess, store_url: str, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[Step]], Outcome]]:
    monkeypatch.setenv("SALES_CONNECT_VAR", str(tmp_path))
    monkeypatch.setenv("SALES_CONNECT_SYNC_SHARDS", "2")
    worlds: list[World] = []

    def run(steps: list[Step]) -> Outcome:
        world = World(history_emulator, store_url)
        worlds.append(world)
        return Player(world).play(steps)

    yield run
    for world in worlds:
        world.close()
