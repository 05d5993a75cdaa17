"""When a record one side refused is tried again.

A refusal is *transient* (a locked row, a timeout: the same write may go through a minute later)
or *permanent* (a validation rule, an inactive owner, a value the org refuses, a record our own
input checks quarantine: the same write gets the same answer until someone changes the record or
the org). Transient refusals are retried with back-off, 5 minutes doubling to 6 hours, for as long
as they last. A permanent one is retried ``MAX_PERMANENT_ATTEMPTS`` times (so a fix made meanwhile
is picked up) and then waits in the sync history with no retry planned (``next_retry_at`` empty)
until the rep or an operator presses "Retry" there (one more attempt) -- an edit of the record on
either side is read as a change anyway and tried at once. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt

from task_sync import validation as v

RETRY_BASE = dt.timedelta(minutes=5)
RETRY_CAP = dt.timedelta(hours=6)
MAX_PERMANENT_ATTEMPTS = 3

# Salesforce's codes for a write it will refuse again, whatever the moment (REST API status codes).
SALESFORCE_PERMANENT: frozenset[str] = frozenset({
    "FIELD_CUSTOM_VALIDATION_EXCEPTION", "INACTIVE_OWNER_OR_USER", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "STRING_TOO_LONG", "REQUIRED_FIELD_MISSING", "INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "FIELD_INTEGRITY_EXCEPTION", "MALFORMED_ID", "INVALID_CROSS_REFERENCE_KEY", "DUPLICATE_VALUE",
    "DUPLICATE_EXTERNAL_ID", "INVALID_ID_FIELD", "ENTITY_IS_DELETED", "INSUFFICIENT_ACCESS_OR_READONLY",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
})  # fmt: skip
PERMANENT: frozenset[str] = SALESFORCE_PERMANENT | v.INPUT_CHECK_CODES


def is_permanent(error_code: str) -> bool:
    return error_code in PERMANENT


def next_retry_at(error_code: str, attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When to try again after the ``attempts``-th refusal; None: not on its own, wait for "Retry"."""
    if is_permanent(error_code) and attempts >= MAX_PERMANENT_ATTEMPTS:
        return None
    return now + min(RETRY_CAP, RETRY_BASE * (2 ** max(attempts - 1, 0)))
