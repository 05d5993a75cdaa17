"""The Salesforce API calls of every try of every step, failed tries included.

A step's calls used to travel in its XCom result, so a try that died took its calls with it and
the history under-counted exactly the runs that cost the most (an allowance spent on retries is
still spent). Each try now writes what it spent to ``sync_step_calls`` when it ends, however it
ends, and the report sums the run's rows. A try killed outright (SIGKILL, a lost worker) cannot
write; its calls are the one thing still missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sales_connect.db import Store
from sales_connect.models import SyncStepCalls
from task_sync.salesforce import SalesforceGateway

log = logging.getLogger(__name__)


class CallMeter:
    """Opens a step's gateways and adds up what they spent."""

    def __init__(self, open_gateway: Callable[[], SalesforceGateway]) -> None:
        self._open = open_gateway
        self._opened: list[SalesforceGateway] = []

    def open(self) -> SalesforceGateway:
        gateway = self._open()
        self._opened.append(gateway)
        return gateway

    @property
    def calls(self) -> int:
        return sum(g.calls for g in self._opened)


def record(store: Store, run_id: int, step: str, meter: CallMeter, *, failed: bool) -> None:
    """Keep one try's calls (none spent: nothing to keep). Never raises: a history that could not be
    written must not hide why the step failed."""
    if not meter.calls:
        return
    try:
        with store.session() as session:
            session.add(SyncStepCalls(run_id=run_id, step=step, calls=meter.calls, failed=failed))
    except Exception:
        log.exception("could not record %d API call(s) of %s in the sync history", meter.calls, step)


def total(session: Session, run_id: int) -> int:
    """Every call the run's steps spent, in every try."""
    return int(session.scalar(select(func.coalesce(func.sum(SyncStepCalls.calls), 0)).where(
        SyncStepCalls.run_id == run_id)) or 0)
