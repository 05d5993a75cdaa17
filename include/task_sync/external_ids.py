"""Our external id on Salesforce Tasks, and why an upsert-like create never takes over a stranger's record.

``Sales_Connect_Id__c`` holds ``<namespace>:<task id>``. The namespace names this installation
(its Sales Connect store): the ``external_id_namespace`` extra of the Salesforce connection, else
one generated on first use; either way it is pinned in the store (``sync_settings``) the first
time it is used and a connection asking for another one stops the sync with a message, because
records already carrying the old one would look foreign.

Creates are *inserts* carrying the external id, not upserts: Salesforce answers an upsert whose
value matches an existing record with ``200 created=false`` after changing it, too late to
refuse. An insert into a Unique field (the preflight makes sure it is) is refused per record with
``DUPLICATE_VALUE`` and the record holding the value is left untouched, at no extra API call.
Only then is the holder read (one query for the refused ids) and judged:

- ours -- the task has an unsettled create (``sync_pending_creates``, written before the request
  went out and removed once its answer is settled) and the holder was created, for the rep's
  owner, at or after that create first went out: the answer of an earlier attempt was lost.
  It is updated with the values being sent and linked, exactly what a retried upsert did.
- anything else (another installation, a sandbox copy, an old import, a store that was reset)
  -- refused and recorded as ``FOREIGN_EXTERNAL_ID`` on the task; nothing is written.

Records pushed before namespaces existed hold the bare task id. Their links pair them by
Salesforce Id, so they go on syncing; a bare value is simply never proof that an unlinked record
is ours (a stranger's record with the value ``42`` is exactly the collision this prevents).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sales_connect.models import PendingCreate, SyncSetting
from task_sync.fields import EXTERNAL_ID_FIELD
from task_sync.salesforce import RecordResult, SalesforceGateway, parse_sf_datetime
from task_sync.soql import quote

NAMESPACE_KEY = "external_id_namespace"
NAMESPACE_EXTRA = "external_id_namespace"  # the Salesforce connection's extra
SEPARATOR = ":"
FOREIGN_EXTERNAL_ID = "FOREIGN_EXTERNAL_ID"
# Lower case (the field is case-insensitive), safe in a URL path segment and a CSV cell.
_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# Ids per lookup query: the SOQL travels in a GET's URI (Salesforce caps it at 16,384 bytes).
_LOOKUP_BATCH = 200


class NamespaceError(RuntimeError):
    """The namespace asked for is malformed, or is not the one this installation pinned."""


def check_namespace(value: str) -> str:
    if not _NAMESPACE.match(value):
        raise NamespaceError(
            f"external_id_namespace {value!r} must be 1-32 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit")
    return value


def pinned_namespace(session: Session, configured: str | None, now: dt.datetime) -> str:
    """This installation's namespace: pinned on first use (the configured one, else a generated
    ``sc-`` + 10 random characters); a configured one that differs from the pinned one is refused."""
    if configured:
        check_namespace(configured)
    row = session.get(SyncSetting, NAMESPACE_KEY)
    if row is None:
        value = configured or f"sc-{secrets.token_hex(5)}"
        session.add(SyncSetting(key=NAMESPACE_KEY, value=value, updated_at=now))
        session.flush()
        return value
    if configured and configured != row.value:
        raise NamespaceError(
            f"the Salesforce connection asks for external_id_namespace {configured!r}, but this installation's "
            f"records carry {row.value!r} (pinned {row.updated_at:%Y-%m-%d}); with another namespace they would "
            f"look foreign. Set the extra back to {row.value!r} (or remove it)")
    return row.value


def external_id(namespace: str, task_id: Any) -> str:
    return f"{namespace}{SEPARATOR}{int(task_id)}"


def task_ids_of(values: pd.Series, namespace: str | None) -> pd.Series:
    """Per Salesforce value of ``Sales_Connect_Id__c``: the task id (str) it names in our namespace,
    else None (another namespace, a bare legacy id, anything else)."""
    prefix = f"{namespace}{SEPARATOR}" if namespace else None

    def ours(value: Any) -> str | None:
        if prefix is None or not isinstance(value, str) or not value.lower().startswith(prefix):
            return None
        rest = value[len(prefix):]
        return rest if rest.isdigit() else None

    return values.map(ours).astype(object)


# -- unsettled creates -----------------------------------------------------------------------------


def mark_sent(session: Session, rows: Sequence[dict[str, Any]], sent_at: dt.datetime) -> None:
    """Before creates go out: remember them (keeping the first moment an earlier attempt sent one)."""
    known = unsettled(session, [r["task_id"] for r in rows])
    for row in rows:
        if int(row["task_id"]) not in known:
            session.add(PendingCreate(task_id=int(row["task_id"]), external_id=row["sf_fields"][EXTERNAL_ID_FIELD],
                                      first_sent_at=sent_at))


def settled(session: Session, task_ids: Iterable[Any]) -> None:
    """The creates of these tasks have their answer: linked, or refused and recorded."""
    ids = [int(t) for t in task_ids if t is not None]
    if ids:
        session.execute(delete(PendingCreate).where(PendingCreate.task_id.in_(ids)))


def unsettled(session: Session, task_ids: Sequence[Any]) -> dict[int, dt.datetime]:
    """When each of these tasks' unsettled create first went out."""
    ids = [int(t) for t in task_ids if t is not None]
    if not ids:
        return {}
    return dict(session.execute(select(PendingCreate.task_id, PendingCreate.first_sent_at).where(
        PendingCreate.task_id.in_(ids))).tuples().all())


# -- refused creates -------------------------------------------------------------------------------


def judge_duplicates(
    gateway: SalesforceGateway, session: Session, batch: list[dict[str, Any]], results: list[RecordResult],
) -> list[RecordResult]:
    """``results`` with every ``DUPLICATE_VALUE`` on our external id replaced: by the success of an
    update of the holder when it is ours (see the module docstring), else by ``FOREIGN_EXTERNAL_ID``."""
    refused = [(i, row) for i, (row, result) in enumerate(zip(batch, results, strict=True))
               if not result.ok and result.error_code == "DUPLICATE_VALUE"]
    if not refused:
        return results
    holders = _holders(gateway, [row["sf_fields"][EXTERNAL_ID_FIELD] for _i, row in refused])
    sent_at = unsettled(session, [row["task_id"] for _i, row in refused])
    out = list(results)
    ours: list[tuple[int, dict[str, Any], str]] = []
    for i, row in refused:
        holder = holders.get(row["sf_fields"][EXTERNAL_ID_FIELD].lower())
        if holder is None:
            continue  # some other unique value: Salesforce's own error stands
        first = sent_at.get(int(row["task_id"]))
        if first is not None and holder["created"] >= first.replace(microsecond=0) and \
                holder["owner"] == row["sf_fields"].get("OwnerId"):
            ours.append((i, row, holder["id"]))
        else:
            out[i] = RecordResult(
                ok=False, sf_id=holder["id"], error_code=FOREIGN_EXTERNAL_ID,
                message=(f"Salesforce Task {holder['id']} already carries {EXTERNAL_ID_FIELD} "
                         f"{row['sf_fields'][EXTERNAL_ID_FIELD]!r} and was not created by this installation; "
                         "it was left untouched and this task was not pushed. Clear that record's "
                         f"{EXTERNAL_ID_FIELD} if it is a stale copy, then retry"),
                fields=(EXTERNAL_ID_FIELD,))
    if ours:
        updates = [{"Id": sf_id, **{k: v for k, v in row["sf_fields"].items() if k != EXTERNAL_ID_FIELD}}
                   for _i, row, sf_id in ours]
        for (i, _row, sf_id), result in zip(ours, gateway.update(updates), strict=True):
            out[i] = RecordResult(ok=True, sf_id=sf_id, created=False) if result.ok else result
    return out


def _holders(gateway: SalesforceGateway, values: list[str]) -> dict[str, dict[str, Any]]:
    """The live (archived included) Tasks holding these external ids, by lower-cased value."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(values), _LOOKUP_BATCH):
        quoted = ",".join(quote(v) for v in values[start:start + _LOOKUP_BATCH])
        soql = (f"SELECT Id, OwnerId, CreatedDate, {EXTERNAL_ID_FIELD} FROM Task "  # noqa: S608 - quoted
                f"WHERE {EXTERNAL_ID_FIELD} IN ({quoted}) AND IsDeleted = false")
        for page in gateway.query_pages(soql, include_deleted=True):
            for record in page:
                found[str(record[EXTERNAL_ID_FIELD]).lower()] = {
                    "id": record["Id"], "owner": record["OwnerId"], "created": parse_sf_datetime(record["CreatedDate"])}
    return found
