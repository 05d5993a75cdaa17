"""Salesforce's limits on a Task, the ones a rep's input must meet before it is stored.

A value Salesforce can never take would sit in Sales Connect as a sync error
forever, so the store refuses it when the rep types it (a clear error on the
form) instead of accepting it and failing later. The sync's own checks of
stored data (``task_sync.validation``) use the same numbers.

Sources: the Task describe (``Subject`` combobox length 255, ``Description``
textarea length 32,000; see /work/shared/salesforce-api.md section 9 and the
emulator's schema), and Salesforce's "valid date range" (Data Loader guide,
"Data Import Dates"): the earliest date is 1700-01-01T00:00:00Z and the latest
4000-12-31T00:00:00Z.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

SUBJECT_MAX: Final = 255
DESCRIPTION_MAX: Final = 32_000

DATE_MIN: Final = dt.date(1700, 1, 1)
DATE_MAX: Final = dt.date(4000, 12, 31)
DATETIME_MIN: Final = dt.datetime(1700, 1, 1, tzinfo=dt.UTC)
DATETIME_MAX: Final = dt.datetime(4000, 12, 31, tzinfo=dt.UTC)

# The largest request body the plugin's API reads. A task at every limit, with each character
# JSON-escaped as \uXXXX (6 bytes), is ~200 KB; 1 MiB leaves room and keeps a hostile client from
# making the api-server buffer megabytes per request.
REQUEST_BODY_MAX_BYTES: Final = 1024 * 1024
