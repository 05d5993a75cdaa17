"""Field rules of the Sales Connect app, shared by the UI forms and the API.

These are the app's own rules (e.g. subject at most 255 characters, like
the Command Center's form). Data the sync imports is stored even when it
breaks them (the column is Text), so they apply to user input only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sales_connect import sf_ids
from sales_connect.errors import ValidationError
from sales_connect.models import TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES

SUBJECT_MAX = 255
# The key prefix of Salesforce User ids.
SF_USER_PREFIX = "005"


def subject(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("subject", "a task needs a subject")
    if len(value) > SUBJECT_MAX:
        raise ValidationError("subject", f"at most {SUBJECT_MAX} characters (got {len(value)})")
    return value


def description(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError("description", f"must be text, not {type(value).__name__}")
    return value


def one_of(field: str, value: Any, allowed: tuple[str, ...], *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if value not in allowed:
        raise ValidationError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def priority(value: Any) -> str:
    return one_of("priority", value, TASK_PRIORITIES)  # type: ignore[return-value]


def status(value: Any) -> str:
    return one_of("status", value, TASK_STATUSES)  # type: ignore[return-value]


def task_type(value: Any) -> str | None:
    return one_of("task_type", value, TASK_TYPES, optional=True)


def due_date(value: Any) -> dt.date | None:
    # datetime is a subclass of date; a timestamp here would be a caller bug.
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    raise ValidationError("due_date", f"must be a date (YYYY-MM-DD), not {value!r}")


def aware_datetime(field: str, value: Any, *, optional: bool = True) -> dt.datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(field, f"must be a timezone-aware date and time, not {value!r}")
    return value.astimezone(dt.UTC)


def time_zone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("time_zone", "choose a time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("time_zone", f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from None
    return value


def sf_owner_id(value: Any) -> str | None:
    """Kept in the 18-character form the REST API answers, whichever form was typed."""
    if value is None:
        return None
    try:
        return sf_ids.to_18(value.strip() if isinstance(value, str) else value, prefix=SF_USER_PREFIX)
    except sf_ids.MalformedId as exc:
        raise ValidationError("sf_owner_id", f"{exc} (a User id is 15 or 18 characters, starting with 005)") from None


def email(value: Any) -> str:
    """Trimmed and lower-cased, so one address cannot sign up twice in different cases."""
    cleaned = value.strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", cleaned) or len(cleaned) > 320:
        raise ValidationError("email", f"{value!r} is not an email address")
    return cleaned


def name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", "a user needs a name")
    if len(value) > 200:
        raise ValidationError("name", "at most 200 characters")
    return value.strip()
