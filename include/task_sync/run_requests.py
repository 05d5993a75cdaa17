"""Which sync runs already serve a rep's "Sync now" (issue 12 #6).

A click while a run for the rep is queued or running joins that run instead of
queuing another: ten clicks used to queue ten runs, and every rep's sync
waited behind them. A run serves the rep when it writes (not a dry run or a
preview) and covers them: its ``user_ids`` names them, or it has none (a
scheduled or full run covers every rep whose sync is on, and "Sync now" needs
sync on). The conf keys are the sync DAG's params.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ACTIVE_STATES: tuple[str, ...] = ("queued", "running")


def serves(conf: Mapping[str, Any] | None, user_id: int) -> bool:
    """True if a run with ``conf`` syncs ``user_id`` for real."""
    conf = conf or {}
    if conf.get("dry_run") or conf.get("preview_enable"):
        return False
    user_ids = conf.get("user_ids") or []
    return not user_ids or user_id in {int(u) for u in user_ids}


def run_to_join(runs: Iterable[Mapping[str, Any]], user_id: int) -> Mapping[str, Any] | None:
    """The active run (Airflow's DAG-run JSON) a click of ``user_id`` joins: the oldest one serving them."""
    active = [r for r in runs if r.get("state") in ACTIVE_STATES and serves(r.get("conf"), user_id)]
    return min(active, key=lambda r: str(r.get("queued_at") or r.get("run_after") or ""), default=None)
