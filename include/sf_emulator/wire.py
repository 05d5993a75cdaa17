"""Salesforce's wire formats: datetimes, dates and the JSON error array.

Storage uses fixed-width UTC text ('YYYY-MM-DDTHH:MM:SS.000Z') so that string
order is time order in SQLite; the wire uses Salesforce's
'YYYY-MM-DDTHH:MM:SS.000+0000'. Salesforce keeps datetimes to the whole second
(its output always shows `.000`), so a fraction given on input is dropped here,
where every stored datetime passes. Conversions live here so every router agrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from fastapi.responses import JSONResponse

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_storage(moment: datetime) -> str:
    """A timezone-aware datetime as the fixed-width UTC text stored in SQLite, to the whole second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def storage_to_wire(text: str | None) -> str | None:
    """'2024-05-01T12:34:56.000Z' -> '2024-05-01T12:34:56.000+0000' (None stays None)."""
    if text is None:
        return None
    return text[:-1] + "+0000"


def to_wire(moment: datetime) -> str:
    return storage_to_wire(to_storage(moment))  # type: ignore[return-value]


def parse_datetime(text: str, *, assume_utc: bool = True) -> datetime:
    """Parse the ISO-8601 forms Salesforce accepts ('Z', '+00:00', '+0000', fractions).

    Raises ValueError on anything else. Without an offset the value is UTC,
    as Salesforce treats it, unless `assume_utc` is False.
    """
    match = _ISO_RE.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO-8601 datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    if zone is None:
        if not assume_utc:
            raise ValueError(f"datetime without a UTC offset: {text!r}")
        return naive.replace(tzinfo=UTC)
    if zone == "Z":
        return naive.replace(tzinfo=UTC)
    return datetime.fromisoformat(naive.isoformat() + _normalise_offset(zone)).astimezone(UTC)


def _normalise_offset(zone: str) -> str:
    digits = zone[1:].replace(":", "")
    digits = digits.ljust(4, "0")
    return f"{zone[0]}{digits[:2]}:{digits[2:]}"


def parse_date(text: str) -> date:
    """Parse a 'YYYY-MM-DD' date; ValueError otherwise."""
    if not _DATE_RE.match(text):
        raise ValueError(f"not a date: {text!r}")
    return date.fromisoformat(text)


@dataclass
class ApiError(Exception):
    """An error answered the way Salesforce's REST API answers it.

    Raised anywhere below a router; the app's exception handler turns it into
    `[{"message": ..., "errorCode": ..., "fields": [...]}]` with `status`.
    Collection calls turn the same object into a per-record `statusCode` entry.
    """

    status: int
    error_code: str
    message: str
    fields: list[str] | None = field(default=None)

    def __str__(self) -> str:
        return f"{self.status} {self.error_code}: {self.message}"

    def rest_body(self) -> list[dict]:
        body: dict = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = self.fields
        return [body]

    def collection_entry(self) -> dict:
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(self.rest_body(), status_code=self.status, headers=headers)


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
