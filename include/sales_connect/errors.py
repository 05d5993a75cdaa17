"""The errors the store's API raises; the UI maps each to a user-facing message."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the Sales Connect store API raises on purpose."""


class ValidationError(StoreError, ValueError):
    """A value the app refuses, with the field it belongs to (for the form)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFoundError(StoreError, LookupError):
    """No such record *for this user*; another user's record looks exactly the same."""


class StaleVersionError(StoreError):
    """The record changed since the caller read it; re-read and retry."""

    def __init__(self, entity: str, record_id: int, expected: int, actual: int | None) -> None:
        now = "has changed" if actual is None else f"is now at version {actual}"
        super().__init__(f"{entity} {record_id} {now}, not version {expected}: reload it and try again")
        self.record_id = record_id
        self.expected = expected
        self.actual = actual
