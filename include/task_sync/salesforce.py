"""Everything the sync asks of Salesforce, with every call counted and every fault sorted.

The sync never talks to ``simple-salesforce`` directly; it goes through
:class:`SalesforceGateway`, which

- counts each REST request it sends (SPEC §9: every run records its cost),
- learns Salesforce's own clock from the ``Date`` header of each answer, so
  windows are bounded by the server's time, never the worker's (SPEC §8),
- pages queries itself, so a transient fault retries one page, not a query,
- retries transient faults (5xx, dropped connections, a locked row on the
  whole request) with exponential back-off,
- renews an expired session once through its connector and carries on,
- turns ``REQUEST_LIMIT_EXCEEDED`` into :class:`ApiLimitExceeded`, so a run
  can stop cleanly with what it did recorded,
- asks a ``getUpdated``/``getDeleted`` window Salesforce refuses as too many ids
  (``EXCEEDED_ID_LIMIT``) in halves until it answers (``id_limit``),
- writes in sObject Collections of at most 200 records with
  ``allOrNone=false`` and returns one :class:`RecordResult` per record, so
  one refused record never blocks the others (SPEC §7).
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from task_sync.id_limit import IdLimitExceeded, ask_in_pieces

log = logging.getLogger(__name__)

COLLECTION_LIMIT = 200
# The name Salesforce records as the API client of our writes (Sforce-Call-Options).
CLIENT_NAME = "SalesConnectTaskSync"
TRANSIENT_HTTP = frozenset({500, 502, 503, 504})
TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"})


class ApiLimitExceeded(RuntimeError):
    """The org's daily API allowance is spent; the run must stop without losing anything."""


class SalesforceUnavailable(RuntimeError):
    """A transient fault outlasted every retry."""


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record of a collection call, in request order."""

    ok: bool
    sf_id: str | None = None
    created: bool | None = None
    error_code: str | None = None
    message: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeletedWindow:
    """What ``getDeleted`` answered for one window."""

    deleted: dict[str, dt.datetime]
    earliest_available: dt.datetime | None
    latest_covered: dt.datetime | None


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * (2**attempt))


@dataclass
class CallMeter:
    """Counts REST requests and remembers the server's clock and allowance.

    Installed as a ``requests`` response hook, so it sees every request the
    client sends on our behalf, including the pages ``simple-salesforce``
    follows and the retries it makes itself.
    """

    calls: int = 0
    by_resource: dict[str, int] = field(default_factory=dict)
    server_time: dt.datetime | None = None
    api_usage: tuple[int, int] | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        path = requests.utils.urlparse(response.url).path
        if "/services/data/" not in path:
            return  # logins and OAuth are not API calls
        self.calls += 1
        resource = _resource_of(path)
        self.by_resource[resource] = self.by_resource.get(resource, 0) + 1
        stamp = response.headers.get("Date")
        if stamp:
            self.server_time = email.utils.parsedate_to_datetime(stamp).astimezone(dt.UTC)
        usage = response.headers.get("Sforce-Limit-Info", "")
        if usage.startswith("api-usage="):
            used, _, total = usage.removeprefix("api-usage=").partition("/")
            if used.isdigit() and total.isdigit():
                self.api_usage = (int(used), int(total))


def _resource_of(path: str) -> str:
    """``/services/data/v59.0/sobjects/Task/deleted/`` -> ``sobjects/Task/deleted``."""
    parts = [p for p in path.split("/") if p]
    rest = parts[3:] if len(parts) > 3 else parts
    if rest and rest[0] in ("query", "queryAll"):
        return rest[0]
    if len(rest) >= 3 and rest[0] == "sobjects" and rest[2] in ("deleted", "updated", "describe"):
        return "/".join(rest[:3])
    return "/".join(rest[:2]) if rest else "versions"


Connector = Callable[[requests.Session], Salesforce]


@dataclass(frozen=True)
class ConnectionInfo:
    """Which Salesforce connection a gateway speaks through, without any secret.

    ``key`` changes when the connection points elsewhere (another org, user or instance), so a
    check made for one connection is made again for the next; ``namespace`` is the
    ``external_id_namespace`` the connection asks for, if any.
    """

    key: str
    namespace: str | None = None


class SalesforceGateway:
    """The sync's only door to Salesforce. See the module docstring for what it guarantees."""

    def __init__(
        self,
        connector: Connector,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        bulk_wait: float = 2.0,
        connection: ConnectionInfo | None = None,
    ) -> None:
        self._connector = connector
        self._session = session or requests.Session()
        self.meter = CallMeter()
        self._session.hooks["response"].append(self.meter)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._bulk_wait = bulk_wait  # seconds between Bulk API job polls
        self._sf = self._connect()
        self.connection = connection or ConnectionInfo(f"direct:{self._sf.sf_instance}")

    # -- plumbing ---------------------------------------------------------------------------------

    def _connect(self) -> Salesforce:
        sf = self._connector(self._session)
        sf.headers["Sforce-Call-Options"] = f"client={CLIENT_NAME}"
        return sf

    @property
    def calls(self) -> int:
        return self.meter.calls

    @property
    def api_version(self) -> str:
        return str(self._sf.sf_version)

    def server_time(self) -> dt.datetime:
        """Salesforce's clock as of its latest answer (asks once if nothing was asked yet)."""
        if self.meter.server_time is None:
            self._call(lambda sf: sf.restful("limits/"))
        assert self.meter.server_time is not None, "Salesforce answered without a Date header"
        return self.meter.server_time

    def _call(self, operation: Callable[[Salesforce], Any]) -> Any:
        renewed = False
        for attempt in range(self._retry.attempts):
            try:
                return operation(self._sf)
            except SalesforceExpiredSession:
                if renewed:
                    raise
                log.info("Salesforce session expired; renewing it and retrying")
                self._sf = self._connect()
                renewed = True
            except SalesforceRefusedRequest as exc:
                if _error_code(exc) == "REQUEST_LIMIT_EXCEEDED":
                    raise ApiLimitExceeded(_error_message(exc)) from exc
                raise
            except (SalesforceGeneralError, SalesforceMalformedRequest, requests.ConnectionError,
                    requests.Timeout) as exc:
                if _error_code(exc) == "EXCEEDED_ID_LIMIT":  # type: ignore[arg-type]
                    raise IdLimitExceeded(_error_message(exc)) from exc
                if not _is_transient(exc) or attempt == self._retry.attempts - 1:
                    if _is_transient(exc):
                        raise SalesforceUnavailable(
                            f"Salesforce still failing after {attempt + 1} tries: {exc}"
                        ) from exc
                    raise
                delay = self._retry.delay(attempt)
                log.warning("transient Salesforce fault (%s); retry %d in %.1fs", _describe(exc), attempt + 1,
                            delay)
                self._sleep(delay)
        raise SalesforceUnavailable("Salesforce could not be reached")  # pragma: no cover - loop always returns

    # -- reads ------------------------------------------------------------------------------------

    def query_pages(self, soql: str, *, include_deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """Yield the records of a SOQL query a page (up to 2,000) at a time."""
        page = self._call(lambda sf: sf.query(soql, include_deleted=include_deleted))
        while True:
            records = [_strip_attributes(r) for r in page.get("records", [])]
            if records:
                yield records
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))

    def describe_task(self) -> dict[str, Any]:
        """``GET sobjects/Task/describe``: the fields as the integration user sees them (one call)."""
        return dict(self._call(lambda sf: sf.Task.describe()))

    def count(self, soql: str) -> int:
        return int(self._call(lambda sf: sf.query(soql))["totalSize"])

    def deleted(self, start: dt.datetime, end: dt.datetime) -> DeletedWindow:
        """Task ids deleted between start and end (``getDeleted``; Salesforce keeps 15 days). A window
        with more than Salesforce's id limit is asked in pieces (``id_limit``)."""
        answers = ask_in_pieces(self._deleted, start, end, what="getDeleted")
        return DeletedWindow(
            deleted={k: v for a in answers for k, v in a.deleted.items()},
            earliest_available=max((a.earliest_available for a in answers if a.earliest_available), default=None),
            latest_covered=answers[-1].latest_covered,
        )

    def _deleted(self, start: dt.datetime, end: dt.datetime) -> DeletedWindow:
        answer = self._call(
            lambda sf: sf.Task.deleted(start, end, headers={"Sforce-Call-Options": f"client={CLIENT_NAME}"})
        )
        return DeletedWindow(
            deleted={r["id"]: parse_sf_datetime(r["deletedDate"]) for r in answer.get("deletedRecords", [])},
            earliest_available=_maybe_datetime(answer.get("earliestDateAvailable")),
            latest_covered=_maybe_datetime(answer.get("latestDateCovered")),
        )

    def updated(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        """Ids of Tasks changed between start and end, whoever owns them (``getUpdated``; 30 days;
        Salesforce answers whole minutes, so the current minute comes in the next window). A window
        with more than Salesforce's id limit is asked in pieces (``id_limit``)."""
        pieces = ask_in_pieces(self._updated, start, end, what="getUpdated")
        return list(dict.fromkeys(i for piece in pieces for i in piece))

    def _updated(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        answer = self._call(
            lambda sf: sf.Task.updated(start, end, headers={"Sforce-Call-Options": f"client={CLIENT_NAME}"})
        )
        return list(answer.get("ids", []))

    # -- writes -----------------------------------------------------------------------------------

    def insert(self, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Create new records. A value already held by a unique field (our external id) is refused
        per record with ``DUPLICATE_VALUE``, and the record holding it is left untouched."""
        return self._collection("POST", "composite/sobjects", records)

    def upsert(self, records: Sequence[dict[str, Any]], external_id_field: str) -> list[RecordResult]:
        """Create-or-update by external id, so a retried create never duplicates."""
        path = f"composite/sobjects/Task/{external_id_field}"
        return self._collection("PATCH", path, records)

    def update(self, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Update by ``Id`` (each record must carry it)."""
        return self._collection("PATCH", "composite/sobjects", records)

    def delete(self, ids: Sequence[str]) -> list[RecordResult]:
        """Delete by id; a row that is already gone counts as deleted (idempotent)."""
        results: list[RecordResult] = []
        for chunk in _chunks(list(ids), COLLECTION_LIMIT):
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            answer = self._call(lambda sf, p=params: sf.restful("composite/sobjects", method="DELETE", params=p))
            for result in map(_record_result, answer or []):
                if not result.ok and result.error_code in ("ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"):
                    result = RecordResult(ok=True, sf_id=result.sf_id)
                results.append(result)
        return results

    def bulk_write(
        self, operation: str, records: Sequence[dict[str, Any]], *, key: str, external_id_field: str = "Id"
    ) -> list[RecordResult]:
        """Bulk API 2.0 ingest (``insert``, ``upsert``, ``update`` or ``delete``) for volumes where 200-record
        collections would cost hundreds of calls; a job costs a handful whatever its size.

        Results come back per job as CSV (successes, failures, unprocessed) and are matched to the
        request by ``key`` (the external id for upserts, ``Id`` otherwise), in request order. A
        retried job is harmless: upserts match on the external id, updates and deletes on Id.
        """
        if not records:
            return []
        columns = list(dict.fromkeys(k for r in records for k in r))
        rows = [{c: _csv_value(r.get(c, ""), c in r) for c in columns} for r in records]

        def send(sf: Salesforce) -> list[dict[str, Any]]:
            handler = sf.bulk2.Task
            if operation == "upsert":
                return handler.upsert(records=rows, external_id_field=external_id_field, wait=self._bulk_wait)
            if operation in ("insert", "update", "delete"):
                return getattr(handler, operation)(records=rows, wait=self._bulk_wait)
            raise ValueError(f"unsupported Bulk API operation {operation!r}")

        jobs = self._call(send)
        outcomes: dict[str, RecordResult] = {}
        for job in jobs:
            job_id = job["job_id"]
            for row in _csv_rows(self._call(lambda sf, j=job_id: sf.bulk2.Task.get_successful_records(j))):
                outcomes[row.get(key) or row["sf__Id"]] = RecordResult(
                    ok=True, sf_id=row["sf__Id"], created=row.get("sf__Created", "").lower() == "true")
            if int(job.get("numberRecordsFailed") or 0):
                for row in _csv_rows(self._call(lambda sf, j=job_id: sf.bulk2.Task.get_failed_records(j))):
                    code, _, message = row.get("sf__Error", "UNKNOWN_ERROR").partition(":")
                    outcomes[row.get(key) or row.get("sf__Id", "")] = RecordResult(
                        ok=False, sf_id=row.get("sf__Id") or None, error_code=code or "UNKNOWN_ERROR",
                        message=message.rstrip(":- ") or "Salesforce refused the record")
        return [
            outcomes.get(str(r.get(key)), RecordResult(
                ok=False, error_code="BULK_NOT_PROCESSED",
                message="the Bulk API job did not process this record; it is retried on the next run"))
            for r in records
        ]

    def _collection(self, method: str, path: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for chunk in _chunks(list(records), COLLECTION_LIMIT):
            body = {"allOrNone": False, "records": [{"attributes": {"type": "Task"}, **r} for r in chunk]}
            answer = self._call(lambda sf, b=body: sf.restful(path, method=method, json=b))
            results.extend(_record_result(r) for r in answer or [])
        return results


# -- helpers ----------------------------------------------------------------------------------------


def parse_sf_datetime(value: str) -> dt.datetime:
    """Salesforce's ``2024-05-01T12:34:56.000+0000`` (and ISO variants) as aware UTC."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _maybe_datetime(value: str | None) -> dt.datetime | None:
    return parse_sf_datetime(value) if value else None


def _strip_attributes(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "attributes"}


def _record_result(raw: dict[str, Any]) -> RecordResult:
    if raw.get("success"):
        return RecordResult(ok=True, sf_id=raw.get("id"), created=raw.get("created"))
    errors = raw.get("errors") or [{}]
    first = errors[0]
    return RecordResult(
        ok=False,
        sf_id=raw.get("id"),
        error_code=first.get("statusCode") or first.get("errorCode") or "UNKNOWN_ERROR",
        message="; ".join(e.get("message", "") for e in errors) or "Salesforce refused the record",
        fields=tuple(first.get("fields") or ()),
    )


def _csv_value(value: Any, present: bool) -> str:
    """A Bulk API CSV field: ``#N/A`` clears a field, an empty field leaves it as it is."""
    if not present:
        return ""
    if value is None:
        return "#N/A"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_rows(text: str | None) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text))) if text else []


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_body(exc: SalesforceError) -> dict[str, Any]:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0]
    return {}


def _error_code(exc: SalesforceError) -> str | None:
    return _error_body(exc).get("errorCode")


def _error_message(exc: SalesforceError) -> str:
    body = _error_body(exc)
    return f"{body.get('errorCode', type(exc).__name__)}: {body.get('message', str(exc))}"


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate problem does not heal by retrying
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, SalesforceResourceNotFound):
        return False
    status = getattr(exc, "status", None)
    return status in TRANSIENT_HTTP or _error_code(exc) in TRANSIENT_CODES  # type: ignore[arg-type]


def _describe(exc: Exception) -> str:
    if isinstance(exc, SalesforceError):
        return f"HTTP {getattr(exc, 'status', '?')} {_error_code(exc) or ''}".strip()
    return type(exc).__name__
