"""The one Sales Connect store this api-server process talks to, opened on first use.

Opening it lazily keeps plugin import cheap and side-effect free: Airflow
imports plugins in every component (scheduler, workers, dag-processor), and
only the api-server ever serves these pages.

Handlers open their own ``session()`` block rather than using a FastAPI
``yield`` dependency, so the commit has certainly happened (or failed, and
the caller sees it) before the response is written or a sync is triggered.
"""

from __future__ import annotations

import threading

from sales_connect.db import Store

_lock = threading.Lock()
_store: Store | None = None


def get_store() -> Store:
    """The process-wide store at ``sales_connect.db.resolve_url()``."""
    global _store
    with _lock:
        if _store is None:
            _store = Store()
        return _store
