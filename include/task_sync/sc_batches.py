"""The Sales Connect side of a plan, cut into transactions of bounded size.

Every transaction that writes tasks holds the change counter's row lock from its first stamped
flush to its commit (``sales_connect.changes``), and a rep's save needs that lock too. Applied in
one transaction, a first sync of tens of thousands of tasks kept every rep's save waiting until it
committed; cut into parts of ``SALES_CONNECT_SYNC_LOAD_BATCH`` rows, a save waits for one part at
most. Parts come in the order the load applies a plan: removals before imports (a record moved to
a new owner is unlinked before it is linked again), then edits, echo refreshes, conflicts and
quarantined records. A load that dies between parts is finished by its retry: each part notes its
outcomes in its own transaction (``outcomes``), so nothing is applied or counted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace

import pandas as pd

from task_sync.diff import DirectionPlan, SyncPlan

DEFAULT_BATCH = 500
_DIRECTION_PHASES = ("deletions", "creates", "updates", "completions")
_PLAN_PHASES = ("link_refreshes", "conflicts", "quarantined")


def _emptied(plan: SyncPlan) -> SyncPlan:
    def empty(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[0:0]

    def empty_direction(direction: DirectionPlan) -> DirectionPlan:
        return DirectionPlan(*(empty(getattr(direction, f.name)) for f in fields(DirectionPlan)))

    return SyncPlan(**{f.name: empty_direction(getattr(plan, f.name)) if f.name in ("sf_to_sc", "sc_to_sf")
                       else empty(getattr(plan, f.name)) for f in fields(SyncPlan)})


def _slices(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def sales_connect_parts(plan: SyncPlan, size: int = DEFAULT_BATCH) -> Iterator[SyncPlan]:
    """``plan``'s Sales Connect writes as plans of at most ``size`` rows each (nothing else in them)."""
    if size < 1:
        raise ValueError(f"a load batch holds at least one record, got {size}")
    empty = _emptied(plan)
    for phase in _DIRECTION_PHASES:
        for part in _slices(getattr(plan.sf_to_sc, phase), size):
            yield replace(empty, sf_to_sc=replace(empty.sf_to_sc, **{phase: part}))
    for phase in _PLAN_PHASES:
        for part in _slices(getattr(plan, phase), size):
            yield replace(empty, **{phase: part})
