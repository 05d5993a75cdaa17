"""Bad input from either side (SPEC §10): a specific error per record, never a crash, never loss.

Every check is vectorised over a frame and returns ``(good, quarantined)``: ``good`` holds the
records that passed, with parsed/canonical columns added; ``quarantined`` has one row per
(record, failed check) with the columns in ``QUARANTINE_COLUMNS``. A record with any error is
left out of ``good`` entirely -- a half-valid record is never synced, and nothing is ever
truncated to fit: an over-long subject is quarantined with its length and the limit, so the
user can shorten it and the next run retries it.

Decisions (SPEC §10 lists "a missing due date" among surprising inputs):
- A missing due date is *valid* on both sides: ActivityDate is nillable in Salesforce, the
  Sales Connect column is nullable, and SPEC §6 stores every task "whatever its due date"
  (it simply never shows in the Command Center's today/tomorrow view). Quarantining such
  tasks would hide ordinary tasks from the user. A due date that is present but unparsable
  is an error (``SF_BAD_DATE``).
- A Salesforce task without a Subject is quarantined (``SF_MISSING_SUBJECT``): Sales Connect
  requires a subject and a blank row in the Command Center would be a silent loss of meaning.
  Sales Connect subjects may be blank (Salesforce accepts a null Subject), so no SC check.
- A deleted Salesforce record is never content-checked: deleting needs only its Id.
- A NUL character (``\x00``) in any text field of a Salesforce record is refused
  (``SF_NUL_CHARACTER``): PostgreSQL cannot store it in text, and a Sales Connect on SQLite must
  behave the same. It is never stripped silently; the payload kept with the error shows it as
  ``\u2400`` (the visible symbol for NUL), so the error row itself can be stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pandas as pd

from sales_connect import sf_ids
from task_sync import fields as f

QUARANTINE_COLUMNS: tuple[str, ...] = ("side", "task_id", "sf_id", "user_id", "error_code", "message", "payload")
SIDE_SF, SIDE_SC = "salesforce", "sales_connect"

SF_BAD_ID = "SF_BAD_ID"
SF_BAD_DATETIME = "SF_BAD_DATETIME"
SF_BAD_DATE = "SF_BAD_DATE"
SF_UNKNOWN_STATUS = "SF_UNKNOWN_STATUS"
SF_UNKNOWN_PRIORITY = "SF_UNKNOWN_PRIORITY"
SF_UNKNOWN_TYPE = "SF_UNKNOWN_TYPE"
SF_MISSING_SUBJECT = "SF_MISSING_SUBJECT"
SF_OWNER_NOT_MAPPED = "SF_OWNER_NOT_MAPPED"
SF_NUL_CHARACTER = "SF_NUL_CHARACTER"
SC_OWNER_NOT_MAPPED = "SC_OWNER_NOT_MAPPED"
SC_SUBJECT_TOO_LONG = "SC_SUBJECT_TOO_LONG"
SC_DESCRIPTION_TOO_LONG = "SC_DESCRIPTION_TOO_LONG"
SC_UNKNOWN_STATUS = "SC_UNKNOWN_STATUS"
SC_UNKNOWN_PRIORITY = "SC_UNKNOWN_PRIORITY"
SC_UNKNOWN_TYPE = "SC_UNKNOWN_TYPE"
SC_BAD_DATE = "SC_BAD_DATE"
SC_BAD_DATETIME = "SC_BAD_DATETIME"
# Every code above: the same record gets the same answer until someone changes it (``retry_policy``).
INPUT_CHECK_CODES: frozenset[str] = frozenset({
    SF_BAD_ID, SF_BAD_DATETIME, SF_BAD_DATE, SF_UNKNOWN_STATUS, SF_UNKNOWN_PRIORITY, SF_UNKNOWN_TYPE,
    SF_MISSING_SUBJECT, SF_OWNER_NOT_MAPPED, SF_NUL_CHARACTER, SC_OWNER_NOT_MAPPED, SC_SUBJECT_TOO_LONG,
    SC_DESCRIPTION_TOO_LONG, SC_UNKNOWN_STATUS, SC_UNKNOWN_PRIORITY, SC_UNKNOWN_TYPE, SC_BAD_DATE, SC_BAD_DATETIME,
})  # fmt: skip

NUL, NUL_SHOWN = "\x00", "\u2400"
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_SF_SYSTEM_DATETIMES = {
    "SystemModstamp": "sf_modstamp",
    "LastModifiedDate": "sf_modified_at",
    "CreatedDate": "sf_created_at",
}


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})


def parse_utc(series: pd.Series) -> pd.Series:
    """ISO 8601 strings (Salesforce's ``...000+0000`` too) or datetimes -> datetime64[UTC]; bad -> NaT."""
    return pd.to_datetime(na_blank(series), utc=True, errors="coerce", format="ISO8601")


def parse_date(series: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` strings or dates -> datetime64 (midnight); bad -> NaT."""
    as_text = na_blank(series).map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return pd.to_datetime(as_text, errors="coerce", format="%Y-%m-%d")


def na_blank(series: pd.Series) -> pd.Series:
    """Missing and empty-string values as None (an empty date string means "no date")."""
    out = f.na_to_none(series)
    return out.where(out.map(lambda v: v != ""), None)


def parse_bool(series: pd.Series) -> pd.Series:
    """Salesforce booleans (JSON true/false, or "true"/"false" from CSV) -> bool; missing -> False."""
    return f.na_to_none(series).map(lambda v: v is True or (isinstance(v, str) and v.lower() == "true")).astype(bool)


class _Collector:
    """Gathers quarantine rows and the index of every record that failed any check."""

    def __init__(self, frame: pd.DataFrame, side: str, describe: Callable[[pd.Series], str]) -> None:
        self.frame, self.side, self.describe = frame, side, describe
        self.parts: list[pd.DataFrame] = []
        self.bad = pd.Series(False, index=frame.index)

    def add(self, mask: pd.Series, code: str, message: Callable[[pd.Series], str]) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = self.frame[mask]
        self.parts.append(
            pd.DataFrame(
                {
                    "side": self.side,
                    "task_id": f.na_to_none(rows["task_id"]) if "task_id" in rows else None,
                    "sf_id": f.na_to_none(rows["sf_id"]) if "sf_id" in rows else None,
                    "user_id": f.na_to_none(rows["user_id"]) if "user_id" in rows else None,
                    "error_code": code,
                    "message": [f"{self.describe(r)}: {message(r)}" for _, r in rows.iterrows()],
                    "payload": [_payload(r) for _, r in rows.iterrows()],
                },
                index=rows.index,
            ).astype(object)
        )
        self.bad |= mask

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        quarantined = pd.concat(self.parts, ignore_index=True) if self.parts else empty_quarantine()
        return self.frame[~self.bad].copy(), quarantined[list(QUARANTINE_COLUMNS)]


def _payload(row: pd.Series) -> dict[str, object]:
    """The record as JSON-safe values, kept with the error so it can be inspected and retried."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if value is None or (not isinstance(value, dict | list) and pd.isna(value)):
            out[str(key)] = None
        elif hasattr(value, "isoformat"):
            out[str(key)] = value.isoformat()
        elif isinstance(value, str):
            out[str(key)] = value.replace(NUL, NUL_SHOWN)
        elif isinstance(value, int | float | bool | dict | list):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _describe_sf(row: pd.Series) -> str:
    return f"Salesforce Task {row.get('sf_id') or row.get('Id')!s}"


def _describe_sc(row: pd.Series) -> str:
    return f"Sales Connect task {row.get('task_id')!s}"


def _not_in(series: pd.Series, allowed: Iterable[str], nullable: bool) -> pd.Series:
    values = f.na_to_none(series)
    bad = ~values.isin(list(allowed))
    return bad & values.notna() if nullable else bad


def _has_nul(value: object) -> bool:
    return isinstance(value, str) and NUL in value


def _nul_fields(row: pd.Series) -> list[str]:
    """The Salesforce fields of ``row`` that hold a NUL character."""
    return [c for c in f.SF_SELECT_FIELDS if _has_nul(row.get(c))]


def ensure_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy with every listed column present (missing ones as None): Salesforce omits nothing,
    but a hand-built or CSV frame may."""
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            out[column] = None
    return out


def validate_sf_system(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Id, timestamps and flags of raw Salesforce rows (``fields.SF_SELECT_FIELDS`` columns).

    Adds ``sf_id``, ``owner_id``, ``sf_modstamp``, ``sf_modified_at``, ``sf_created_at``
    (datetime64[UTC]), ``is_deleted`` (bool) and ``sales_connect_id`` (str or None). When
    overlapping windows return one Id twice, the row with the newest SystemModstamp is kept.
    """
    frame = ensure_columns(records, f.SF_SELECT_FIELDS)
    # Compared with ids kept in the store, so both in the 18-character form.
    frame["sf_id"] = f.na_to_none(frame["Id"]).map(sf_ids.comparable)
    frame["owner_id"] = f.na_to_none(frame["OwnerId"]).map(sf_ids.comparable)
    for raw, parsed in _SF_SYSTEM_DATETIMES.items():
        frame[parsed] = parse_utc(frame[raw])
    frame["is_deleted"] = parse_bool(frame["IsDeleted"])
    frame["sales_connect_id"] = na_blank(frame[f.EXTERNAL_ID_FIELD]).map(lambda v: None if v is None else str(v))

    check = _Collector(frame, SIDE_SF, _describe_sf)
    check.add(~frame["sf_id"].map(lambda v: isinstance(v, str) and bool(_SF_ID.match(v))), SF_BAD_ID,
              lambda r: f"Id {r['Id']!r} is not a 15- or 18-character Salesforce id")
    for raw, parsed in _SF_SYSTEM_DATETIMES.items():
        check.add(frame[parsed].isna(), SF_BAD_DATETIME,
                  lambda r, raw=raw: f"{raw} {r[raw]!r} is not an ISO 8601 datetime")
    good, quarantined = check.result()
    good = good.sort_values("sf_modstamp").drop_duplicates("sf_id", keep="last")
    return good, quarantined


def validate_sf_owners(frame: pd.DataFrame, users: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attach the Sales Connect user owning each record; an OwnerId no user maps to is quarantined.

    The match is exact on the 18-character form (both sides are normalised to it; the
    15-character form is case-sensitive), which is what keeps one user's tasks out of another
    user's list. Adds the ``users`` columns.
    """
    owners = users[users["sf_owner_id"].notna()]
    merged = frame.merge(owners, how="left", left_on="owner_id", right_on="sf_owner_id", validate="many_to_one")
    merged.index = frame.index
    check = _Collector(merged, SIDE_SF, _describe_sf)
    check.add(merged["user_id"].isna(), SF_OWNER_NOT_MAPPED,
              lambda r: f"OwnerId {r['owner_id']!r} is not the Salesforce user of any Sales Connect user")
    return check.result()


def validate_sc_owners(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tasks of a synced user who has no Salesforce user id are refused: pushing them without an
    OwnerId would file them under the integration user, i.e. in someone else's list."""
    check = _Collector(frame, SIDE_SC, _describe_sc)
    check.add(frame["sf_owner_id"].isna(), SC_OWNER_NOT_MAPPED,
              lambda r: f"user {r['user_id']} has sync on but no Salesforce user id (OwnerId) to file the task under")
    return check.result()


def validate_sf_content(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vocabulary and dates of (non-deleted) Salesforce rows; adds the canonical columns
    (``fields.MAPPED_FIELDS``, Salesforce vocabulary) and ``completed_at`` (datetime64[UTC])."""
    frame = frame.copy()
    due = parse_date(frame["ActivityDate"])
    reminder = parse_utc(frame["ReminderDateTime"])
    completed = parse_utc(frame["CompletedDateTime"])
    check = _Collector(frame, SIDE_SF, _describe_sf)
    nul = pd.Series(False, index=frame.index)
    for column in f.SF_SELECT_FIELDS:
        if column in frame:
            nul |= frame[column].map(_has_nul).astype(bool)
    check.add(nul, SF_NUL_CHARACTER,
              lambda r: f"{' and '.join(_nul_fields(r))} contain(s) a NUL character (\\x00), which the Sales Connect "
              "database cannot store; remove it in Salesforce and the next run takes the task")
    check.add(f.canonical_text(frame["Subject"]).isna(), SF_MISSING_SUBJECT,
              lambda r: "Subject is empty; Sales Connect requires a subject")
    check.add(_not_in(frame["Status"], f.SF_STATUSES, nullable=False), SF_UNKNOWN_STATUS,
              lambda r: f"Status {r['Status']!r} is not one of {', '.join(f.SF_STATUSES)}")
    check.add(_not_in(frame["Priority"], f.SF_PRIORITIES, nullable=False), SF_UNKNOWN_PRIORITY,
              lambda r: f"Priority {r['Priority']!r} is not one of {', '.join(f.SF_PRIORITIES)}")
    check.add(_not_in(frame["Type"], f.SF_TYPES, nullable=True), SF_UNKNOWN_TYPE,
              lambda r: f"Type {r['Type']!r} is not one of {', '.join(f.SF_TYPES)} (or empty)")
    check.add(due.isna() & na_blank(frame["ActivityDate"]).notna(), SF_BAD_DATE,
              lambda r: f"ActivityDate {r['ActivityDate']!r} is not a YYYY-MM-DD date")
    for raw, parsed in (("ReminderDateTime", reminder), ("CompletedDateTime", completed)):
        check.add(parsed.isna() & na_blank(frame[raw]).notna(), SF_BAD_DATETIME,
                  lambda r, raw=raw: f"{raw} {r[raw]!r} is not an ISO 8601 datetime")
    frame["subject"] = f.canonical_text(frame["Subject"])
    frame["description"] = f.canonical_text(frame["Description"])
    frame["due_date"] = f.canonical_date(due)
    frame["status"] = f.na_to_none(frame["Status"])
    frame["priority"] = f.na_to_none(frame["Priority"])
    frame["task_type"] = f.na_to_none(frame["Type"])
    frame["reminder_at"] = f.canonical_datetime(reminder).where(parse_bool(frame["IsReminderSet"]), None)
    frame["completed_at"] = completed
    return check.result()


def validate_sc_content(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What Salesforce would refuse or Sales Connect should never hold, for tasks about to be pushed;
    adds the canonical columns (``fields.MAPPED_FIELDS``, Sales Connect vocabulary)."""
    frame = frame.copy()
    subject_len = f.na_to_none(frame["subject"]).map(lambda v: len(v) if isinstance(v, str) else 0)
    description_len = f.na_to_none(frame["description"]).map(lambda v: len(v) if isinstance(v, str) else 0)
    due = parse_date(frame["due_date"])
    reminder = parse_utc(frame["reminder_at"])
    check = _Collector(frame, SIDE_SC, _describe_sc)
    check.add(subject_len > f.SUBJECT_MAX, SC_SUBJECT_TOO_LONG,
              lambda r: f"subject is {len(r['subject'])} characters; Salesforce allows {f.SUBJECT_MAX} "
              "(not truncated: shorten it and the next run retries)")
    check.add(description_len > f.DESCRIPTION_MAX, SC_DESCRIPTION_TOO_LONG,
              lambda r: f"description is {len(r['description'])} characters; Salesforce allows {f.DESCRIPTION_MAX} "
              "(not truncated: shorten it and the next run retries)")
    check.add(_not_in(frame["status"], f.SC_STATUSES, nullable=False), SC_UNKNOWN_STATUS,
              lambda r: f"status {r['status']!r} is not one of {', '.join(f.SC_STATUSES)}")
    check.add(_not_in(frame["priority"], f.SC_PRIORITIES, nullable=False), SC_UNKNOWN_PRIORITY,
              lambda r: f"priority {r['priority']!r} is not one of {', '.join(f.SC_PRIORITIES)}")
    check.add(_not_in(frame["task_type"], f.SC_TYPES, nullable=True), SC_UNKNOWN_TYPE,
              lambda r: f"task_type {r['task_type']!r} is not one of {', '.join(f.SC_TYPES)} (or empty)")
    check.add(due.isna() & na_blank(frame["due_date"]).notna(), SC_BAD_DATE,
              lambda r: f"due_date {r['due_date']!r} is not a date")
    check.add(reminder.isna() & na_blank(frame["reminder_at"]).notna(), SC_BAD_DATETIME,
              lambda r: f"reminder_at {r['reminder_at']!r} is not a timezone-aware datetime")
    canonical = pd.DataFrame(
        {
            "subject": f.canonical_text(frame["subject"]),
            "description": f.canonical_text(frame["description"]),
            "due_date": f.canonical_date(due),
            "status": f.na_to_none(frame["status"]),
            "priority": f.na_to_none(frame["priority"]),
            "task_type": f.na_to_none(frame["task_type"]),
            "reminder_at": f.canonical_datetime(reminder),
        },
        index=frame.index,
    )
    for column in f.MAPPED_FIELDS:
        frame[column] = canonical[column]
    return check.result()
