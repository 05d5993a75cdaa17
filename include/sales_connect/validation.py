"""Field rules of the Sales Connect app, shared by the UI forms and the API.

These are the app's own rules, and they are Salesforce's limits
(``sales_connect.limits``): a value Salesforce can never take is refused when
typed, not stored to fail every sync. Every text a user sends is also refused
when it holds a NUL character (PostgreSQL cannot store one) or a lone UTF-16
surrogate (JSON's ``"\\ud800"`` decodes to one; it is no character, and no
database encoding can store it), naming the field, so bad text is a 422 and
never a crash. Data the sync imports is stored even when it breaks these rules
(the column is Text), so they apply to user input only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sales_connect import limits, sf_ids, time_zones
from sales_connect.errors import ValidationError
from sales_connect.models import TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES

SUBJECT_MAX = limits.SUBJECT_MAX
DESCRIPTION_MAX = limits.DESCRIPTION_MAX
# Airflow's run_id column is String(250); a longer one names no run.
DAG_RUN_ID_MAX = 250
# The key prefix of Salesforce User ids.
SF_USER_PREFIX = "005"


_SURROGATE = re.compile("[\ud800-\udfff]")


def text(field: str, value: Any, max_length: int | None = None) -> str:
    """``value`` if it is storable text within ``max_length`` characters; else a ValidationError for ``field``."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, not {type(value).__name__}")
    if "\x00" in value:
        raise ValidationError(field, f"contains a NUL character (at position {value.index(chr(0))}); remove it")
    bad = _SURROGATE.search(value)
    if bad:
        raise ValidationError(field, f"contains a lone UTF-16 surrogate (at position {bad.start()}), not a character")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(field, f"at most {max_length} characters (got {len(value)})")
    return value


def subject(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("subject", "a task needs a subject")
    return text("subject", value, SUBJECT_MAX)


def description(value: Any) -> str | None:
    return None if value is None else text("description", value, DESCRIPTION_MAX)


def one_of(field: str, value: Any, allowed: tuple[str, ...], *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if value not in allowed:
        raise ValidationError(field, f"{shown(value)} is not one of {', '.join(allowed)}")
    return value


def priority(value: Any) -> str:
    return one_of("priority", value, TASK_PRIORITIES)  # type: ignore[return-value]


def status(value: Any) -> str:
    return one_of("status", value, TASK_STATUSES)  # type: ignore[return-value]


def task_type(value: Any) -> str | None:
    return one_of("task_type", value, TASK_TYPES, optional=True)


def due_date(value: Any) -> dt.date | None:
    # datetime is a subclass of date; a timestamp here would be a caller bug.
    if value is None:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError("due_date", f"must be a date (YYYY-MM-DD), not {shown(value)}")
    if not limits.DATE_MIN <= value <= limits.DATE_MAX:
        raise ValidationError(
            "due_date", f"{value.isoformat()} is outside Salesforce's dates ({limits.DATE_MIN} to {limits.DATE_MAX})"
        )
    return value


def aware_datetime(field: str, value: Any, *, optional: bool = True) -> dt.datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(field, f"must be a timezone-aware date and time, not {shown(value)}")
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is in year 10000 in UTC
        utc = None
    if utc is None or not limits.DATETIME_MIN <= utc <= limits.DATETIME_MAX:
        raise ValidationError(
            field,
            f"{value.isoformat()} is outside Salesforce's dates "
            f"({limits.DATETIME_MIN:%Y-%m-%dT%H:%M:%SZ} to {limits.DATETIME_MAX:%Y-%m-%dT%H:%M:%SZ})",
        )
    return utc


def time_zone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("time_zone", "choose a time zone")
    if not time_zones.is_allowed(value):
        raise ValidationError("time_zone", f"{shown(value)} is not an IANA time zone name (e.g. Europe/Paris)")
    return value


def sf_owner_id(value: Any) -> str | None:
    """Kept in the 18-character form the REST API answers, whichever form was typed."""
    if value is None:
        return None
    if isinstance(value, str):
        value = text("sf_owner_id", value, 64).strip()  # a long paste is not echoed whole in the message
    try:
        return sf_ids.to_18(value, prefix=SF_USER_PREFIX)
    except sf_ids.MalformedId as exc:
        raise ValidationError("sf_owner_id", f"{exc} (a User id is 15 or 18 characters, starting with 005)") from None


def email(value: Any) -> str:
    """Trimmed and lower-cased, so one address cannot sign up twice in different cases."""
    cleaned = text("email", value, 320).strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", cleaned):
        raise ValidationError("email", f"{shown(value)} is not an email address")
    return cleaned


def name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", "a user needs a name")
    return text("name", value, 200).strip()


# --- text from a form or JSON body -> the types above ------------------------------


def iso_date(field: str, value: str | None) -> dt.date | None:
    """``YYYY-MM-DD`` (surrounding spaces ignored) -> date; None stays None (no due date)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(text(field, value).strip())
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(field, f"must be a date (YYYY-MM-DD), not {shown(value)}") from None


def iso_datetime(field: str, value: str | None) -> dt.datetime | None:
    """ISO 8601 with a UTC offset -> aware datetime; None stays None. A naive time is refused:
    the server cannot know which zone the rep meant."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text(field, value).strip())
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(field, f"must be a date and time (ISO 8601), not {shown(value)}") from None
    if parsed.tzinfo is None:
        raise ValidationError(field, f"needs a UTC offset (e.g. 2026-11-26T09:00:00+01:00), not {shown(value)}")
    return parsed


def shown(value: Any, limit: int = 64) -> str:
    """``value`` for an error message: repr (so NULs and surrogates appear escaped, and the message
    itself stays storable and encodable) and cut to ``limit`` characters."""
    text_ = repr(value)
    return text_ if len(text_) <= limit else text_[:limit] + "..."
