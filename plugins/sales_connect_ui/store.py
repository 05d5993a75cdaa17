"""The one Sales Connect store this api-server process talks to, opened on first use.

Opening it lazily keeps plugin import cheap and side-effect free: Airflow
imports plugins in every component (scheduler, workers, dag-processor), and
only the api-server ever serves these pages. The first use also migrates it.

Handlers open their own ``session()`` block rather than using a FastAPI
``yield`` dependency, so the commit has certainly happened (or failed, and
the caller sees it) before the response is written or a sync is triggered.
"""

from __future__ import annotations

import threading

from sales_connect.db import Store, migrate

_lock = threading.Lock()
_store: Store | None = None


def get_store() -> Store:
    """The process-wide store at ``sales_connect.db.resolve_url()``, migrated on first use.

    Migrating here (under the store's migration lock, a no-op when it is current) is what lets a
    fresh stack answer these pages at once, before any DAG run has touched the store (issue 15
    #1). A failed migration is not remembered: the next request tries again.
    """
    global _store
    with _lock:
        if _store is None:
            store = Store()
            try:
                migrate(store.url)
            except BaseException:
                store.dispose()
                raise
            _store = store
        return _store
