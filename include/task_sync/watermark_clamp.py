"""Watermarks never pass Salesforce's current time (issue 15 #7).

Why: a read window starts at the watermark (minus an overlap) and never after the server's
``now``. A watermark *ahead* of the server — the connection moved from the emulator or a sandbox
to another org, a clock corrected — would make every run start at its own ``now``: each change
made between two runs would fall before the next run's start and never be read, until Salesforce's
clock caught up with the bad value. ``ledger.save_watermark`` never moves a watermark backwards
(runs finishing out of order must not), so only this explicit clamp can bring it back.

At the start of a run's read, every time watermark (a shard's ``sf_modstamp``, the run-wide
``sf_deleted_until``) later than the server's ``now`` is set to that ``now``, in the durable
ledger (not on a dry run, which writes nothing) and in the prior XCom the run was handed. The
clamp is logged and kept on the run's history row (``counts["watermarks_clamped"]`` and the
message), so an operator sees why the run read from where it did. Change sequences (``sc_seq``)
are Sales Connect's own and not compared with Salesforce's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from sales_connect.models import SyncRun, SyncWatermark
from task_sync.ledger import WATERMARKS_CLAMPED, ShardWatermark

log = logging.getLogger(__name__)

_TIME_FIELDS = ("sf_modstamp", "sf_deleted_until")


@dataclass(frozen=True)
class Clamp:
    """One watermark found ahead of the server: where it was kept, which one, and its value."""

    source: str  # "ledger" | "xcom"
    shard_key: str
    field: str
    was: dt.datetime

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "shard_key": self.shard_key, "field": self.field,
                "was": self.was.isoformat()}


def clamp_to_server_time(
    session: Session,
    *,
    run_id: int,
    watermarks: Mapping[str, ShardWatermark],
    prior_xcom: Mapping[str, Any] | None,
    server_now: dt.datetime,
    persist: bool,
) -> tuple[dict[str, ShardWatermark], dict[str, Any] | None, list[Clamp]]:
    """The ledger watermarks and the prior XCom with nothing later than ``server_now``.

    ``persist``: also move the durable ledger rows back (False for a dry run). Always records a
    clamp on the history row ``run_id`` and logs it. Returns (ledger marks, XCom, clamps).
    """
    now = server_now.astimezone(dt.UTC)
    clamps: list[Clamp] = []
    marks: dict[str, ShardWatermark] = {}
    for key, mark in watermarks.items():
        changes = {f: now for f in _TIME_FIELDS if _ahead(getattr(mark, f), now)}
        clamps += [Clamp("ledger", key, f, getattr(mark, f)) for f in changes]
        marks[key] = replace(mark, **changes) if changes else mark
        if changes and persist:
            row = session.get(SyncWatermark, key)
            if row is not None:
                for f in changes:
                    setattr(row, f, now)
    xcom: dict[str, Any] | None = None
    if prior_xcom is not None:
        xcom = {}
        for key, value in prior_xcom.items():
            parsed = ShardWatermark.from_json(key, value) if isinstance(value, Mapping) else None
            ahead = [f for f in _TIME_FIELDS if parsed is not None and _ahead(getattr(parsed, f), now)]
            clamps += [Clamp("xcom", key, f, getattr(parsed, f)) for f in ahead]
            xcom[key] = {**value, **{f: now.isoformat() for f in ahead}} if ahead else value
    if clamps:
        _record(session, run_id, clamps, now, persist)
    return marks, xcom, clamps


def _ahead(value: dt.datetime | None, now: dt.datetime) -> bool:
    return value is not None and value.astimezone(dt.UTC) > now


def describe(clamps: list[Clamp], now: dt.datetime) -> str:
    """One line for the history message and the log."""
    parts = ", ".join(f"{c.source} {c.shard_key}.{c.field} {c.was.isoformat()}" for c in clamps)
    return (f"{len(clamps)} watermark(s) ahead of Salesforce's time clamped to {now.isoformat()} "
            f"(was: {parts})")


def _record(session: Session, run_id: int, clamps: list[Clamp], now: dt.datetime, persist: bool) -> None:
    text = describe(clamps, now)
    log.warning("%s%s", text, "" if persist else "; dry run: the ledger is left as it is")
    run = session.get(SyncRun, run_id)
    if run is not None:
        run.counts = {**(run.counts or {}), WATERMARKS_CLAMPED: {
            "message": text, "clamped_to": now.isoformat(), "persisted": persist,
            "marks": [c.as_json() for c in clamps],
        }}
