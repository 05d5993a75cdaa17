"""The sync's tunables, in one place, read from the environment with production defaults."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

DAG_ID = "sales_connect_task_sync"
# Emitting an event on this asset (e.g. from the settings page) starts a run at once.
SYNC_REQUESTS_ASSET_URI = "sales-connect://sync-requests"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def var_dir() -> Path:
    """Where embedded state lives (SQLite files, run folders); ``SALES_CONNECT_VAR`` or ``./var``."""
    return Path(os.environ.get("SALES_CONNECT_VAR") or Path.cwd() / "var")


@dataclass(frozen=True)
class SyncSettings:
    shard_count: int
    overlap: dt.timedelta
    initial_lookback: dt.timedelta
    work_dir: Path
    salesforce_conn_id: str
    bulk_threshold: int
    bulk_poll_seconds: float
    lock_retry: dt.timedelta
    load_batch: int

    @classmethod
    def from_env(cls) -> SyncSettings:
        return cls(
            # Users are spread over this many shards; each shard reads many owners per query.
            shard_count=max(1, _int("SALES_CONNECT_SYNC_SHARDS", 4)),
            # Re-read this much before the watermark: Salesforce stamps rows before they commit.
            overlap=dt.timedelta(seconds=_int("SALES_CONNECT_SYNC_OVERLAP_SECONDS", 300)),
            # The first sync imports what changed this long before sync was switched on (SPEC §3).
            initial_lookback=dt.timedelta(hours=24),
            # Files that carry DataFrames between tasks; must be shared by all workers.
            work_dir=Path(os.environ.get("SALES_CONNECT_SYNC_WORK_DIR") or var_dir() / "runs"),
            salesforce_conn_id=os.environ.get("SALES_CONNECT_SALESFORCE_CONN_ID", "salesforce_default"),
            # Above this many writes of one kind, a shard uses Bulk API 2.0 instead of collections.
            bulk_threshold=_int("SALES_CONNECT_SYNC_BULK_THRESHOLD", 10_000),
            # How long to wait between polls of a Bulk API job's state.
            bulk_poll_seconds=float(os.environ.get("SALES_CONNECT_SYNC_BULK_POLL_SECONDS") or 2.0),
            # A run that finds another holding the run lock (task_sync.run_lock) tries again this much later.
            lock_retry=dt.timedelta(seconds=max(1, _int("SALES_CONNECT_SYNC_LOCK_RETRY_SECONDS", 30))),
            # Sales Connect rows per load transaction: a rep's save waits for one such transaction at most.
            load_batch=max(1, _int("SALES_CONNECT_SYNC_LOAD_BATCH", 500)),
        )
