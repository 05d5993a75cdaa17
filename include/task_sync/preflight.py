"""Before a connection's first run: is Salesforce set up for the sync?

The sync needs ``Sales_Connect_Id__c`` on Task as a Text field marked External ID and Unique,
which the integration user may read and edit: creates carry it and rely on Unique to be refused
rather than duplicated (``external_ids``), and every read selects it. A real org gets the field
by hand, so the first run of a connection -- and the first run after the connection changed
(another org, user or instance: ``ConnectionInfo.key``) -- asks one ``describe`` of Task and stops
with a message saying exactly what to create or fix. A pass is remembered per connection in the
store (``sync_settings``), so later runs spend nothing; a failure is not, so the run after the
admin's fix checks again.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from sales_connect.models import SyncSetting
from task_sync.fields import EXTERNAL_ID_FIELD
from task_sync.salesforce import SalesforceGateway

# Room for "<namespace>:<task id>": a 32-character namespace, the separator and a 19-digit id.
REQUIRED_LENGTH = 52
FIELD_LABEL = "Sales Connect Id"
HOW_TO_CREATE = (
    f"In Salesforce Setup, Object Manager > Activity > Fields & Relationships > New: data type Text, "
    f"Field Label '{FIELD_LABEL}', Length 64, Field Name 'Sales_Connect_Id' (API name {EXTERNAL_ID_FIELD}), "
    "tick 'Unique' (case-insensitive) and 'External ID'; at the field-level security step make it Visible and "
    "not Read-Only for the integration user's profile (or grant Read and Edit on it in a permission set assigned "
    "to that user)"
)


class PreflightFailed(RuntimeError):
    """Salesforce is not set up for the sync; the message says what to create or change."""


def _key(connection_key: str) -> str:
    return f"preflight:{connection_key}"


def ensure_ready(gateway: SalesforceGateway, session: Session, now: dt.datetime) -> None:
    """Pass silently if this connection passed before; else describe Task once and check the field."""
    key = _key(gateway.connection.key)
    if session.get(SyncSetting, key) is not None:
        return
    field = next((f for f in gateway.describe_task().get("fields", []) if f.get("name") == EXTERNAL_ID_FIELD), None)
    problems = problems_of(field)
    if problems:
        raise PreflightFailed(
            f"Salesforce is not set up for the sync ({gateway.connection.key}): {'; '.join(problems)}. "
            f"{HOW_TO_CREATE}. The next run checks again.")
    checked = {k: field.get(k) for k in ("type", "length", "externalId", "unique", "createable", "updateable")}
    session.add(SyncSetting(key=key, value=json.dumps(checked), updated_at=now))
    session.flush()


def problems_of(field: dict[str, Any] | None) -> list[str]:
    """What is wrong with the described field, in the words of Salesforce Setup."""
    if field is None:
        return [f"Task has no field {EXTERNAL_ID_FIELD} that the integration user can see (it does not exist, or "
                "field-level security hides it)"]
    problems = []
    if field.get("type") != "string":
        problems.append(f"{EXTERNAL_ID_FIELD} is of type {field.get('type')!r}, not Text")
    elif int(field.get("length") or 0) < REQUIRED_LENGTH:
        problems.append(f"{EXTERNAL_ID_FIELD} holds {field.get('length')} characters; it needs at least "
                        f"{REQUIRED_LENGTH} (make it Length 64)")
    if not field.get("externalId"):
        problems.append(f"{EXTERNAL_ID_FIELD} is not marked External ID")
    if not field.get("unique"):
        problems.append(f"{EXTERNAL_ID_FIELD} is not marked Unique")
    if not (field.get("createable") and field.get("updateable")):
        problems.append(f"the integration user may not edit {EXTERNAL_ID_FIELD} (field-level security is Read-Only)")
    return problems
