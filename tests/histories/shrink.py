"""Delta debugging over a failing history's steps, and the regression test it prints.

``shrink`` keeps removing chunks of steps (halves, then quarters, ...) while the replay still
breaks the same rule, so what is left is a short history in which every step matters.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from generator import Step

Replay = Callable[[list[Step]], set[str]]


def shrink(steps: list[Step], rule: str, replay: Replay, *, budget_s: float = 300) -> list[Step]:
    """The shortest history found (ddmin) whose replay still violates ``rule``, within ``budget_s``."""
    deadline = time.monotonic() + budget_s
    chunks = 2
    while len(steps) >= 2 and time.monotonic() < deadline:
        size = max(1, len(steps) // chunks)
        for start in range(0, len(steps), size):
            candidate = steps[:start] + steps[start + size:]
            if time.monotonic() >= deadline:
                break
            if rule in replay(candidate):
                steps, chunks = candidate, max(chunks - 1, 2)
                break
        else:
            if size == 1:
                break
            chunks = min(len(steps), chunks * 2)
    return steps


def regression_test(name: str, steps: list[Step], rule: str, seed: int) -> str:
    """A ready-to-paste test for ``tests/histories/test_found.py`` (uses its ``play`` fixture)."""
    body = ",\n        ".join(step.as_code() for step in steps)
    return (
        f"def test_{name}(play) -> None:\n"
        f'    """Found by the history generator (seed {seed}): {rule}."""\n'
        f"    outcome = play([\n        {body},\n    ])\n"
        f"    assert outcome.violations == []\n"
    )
