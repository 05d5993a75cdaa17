"""Fixtures of the sync-logic tests (builders live in sync_world.py)."""

from __future__ import annotations

import pytest
from sync_world import World


@pytest.fixture
def world() -> World:
    return World()
