"""Bulk API 2.0 jobs: their state machine, CSV in and out, and the background worker that runs them.

Salesforce runs Bulk jobs asynchronously: a query job is accepted as
UploadComplete, an ingest job as Open (data is uploaded, then the client
closes it). A worker thread per org then moves each job through InProgress to
JobComplete, Failed or Aborted while the client polls. Jobs live in memory,
like the REST query cursors; they do not survive a restart.

Nothing here has its own record rules: every ingested row goes through
`sf_emulator.bulk_rows` (shared with Bulk API 1.0) to `Records.create/update/upsert/delete`
(the code behind the REST sObject and collection routes) in its own savepoint, so a bad row fails alone, and every
query compiles through `compile_soql` against the same snapshot semantics as
`GET query` (the matching rowids are fixed when the job runs, rows are read
page by page).
"""

from __future__ import annotations

import base64
import itertools
import logging
import queue
import threading
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sf_emulator.bulk_rows import (
    WRITE_OPERATIONS,
    RowWriter,
    bulk_error_text,
    compile_bulk_query,
    csv_value,
    read_csv,
    read_rows,
    write_csv,
)
from sf_emulator.ids import make_id, to_18
from sf_emulator.org import Emulator
from sf_emulator.per_org import PerOrg
from sf_emulator.records import CallContext
from sf_emulator.schema import ObjectSchema, object_schema
from sf_emulator.soql import CompiledQuery, SoqlError
from sf_emulator.wire import ApiError, not_found, to_wire

log = logging.getLogger(__name__)

JOB_KEY_PREFIX = "750"
QUERY, INGEST = "query", "ingest"
OPEN, UPLOAD_COMPLETE, IN_PROGRESS = "Open", "UploadComplete", "InProgress"
JOB_COMPLETE, FAILED, ABORTED = "JobComplete", "Failed", "Aborted"
FINISHED_STATES = frozenset({JOB_COMPLETE, FAILED, ABORTED})
QUERY_OPERATIONS = ("query", "queryAll")
INGEST_OPERATIONS = WRITE_OPERATIONS
COLUMN_DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
#: Salesforce deletes finished jobs (and their results) after seven days.
JOB_RETENTION = timedelta(days=7)
#: Rows written per transaction: other API calls get the store between chunks, and an abort takes effect there.
INGEST_CHUNK = 200


def invalid_job(message: str) -> ApiError:
    return ApiError(400, "INVALIDJOB", message)


def invalid_state(message: str) -> ApiError:
    return ApiError(400, "INVALIDJOBSTATE", message)


@dataclass
class _QuerySnapshot:
    schema: ObjectSchema
    names: list[str]
    rowids: array


@dataclass
class BulkJob:
    """One job and everything the API reports about it."""

    id: str
    kind: str
    operation: str
    object_name: str
    created_by: str
    client: str | None
    created: datetime
    api_version: str
    column_delimiter: str
    line_ending: str
    external_id_field: str | None = None
    query: str | None = None
    state: str = OPEN
    modified: datetime | None = None
    error_message: str | None = None
    data: bytes | None = None
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    processing_ms: int = 0
    compiled: CompiledQuery | None = None
    snapshot: _QuerySnapshot | None = None

    @property
    def delimiter(self) -> str:
        return COLUMN_DELIMITERS[self.column_delimiter]

    @property
    def newline(self) -> str:
        return LINE_ENDINGS[self.line_ending]

    @property
    def records_processed(self) -> int:
        if self.kind == QUERY:
            return len(self.snapshot.rowids) if self.snapshot else 0
        return len(self.successful) + len(self.failed)

    def info(self) -> dict[str, Any]:
        """The job info JSON (create, get, close and abort all answer with it)."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object_name,
            "createdById": self.created_by,
            "createdDate": to_wire(self.created),
            "systemModstamp": to_wire(self.modified or self.created),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "jobType": "V2Query" if self.kind == QUERY else "V2Ingest",
            "numberRecordsProcessed": self.records_processed,
            "retries": 0,
            "totalProcessingTime": self.processing_ms,
        }
        if self.kind == INGEST:
            body["numberRecordsFailed"] = len(self.failed)
            body["apiActiveProcessingTime"] = self.processing_ms
            body["apexProcessingTime"] = 0
            if self.external_id_field:
                body["externalIdFieldName"] = self.external_id_field
            if self.state == OPEN:
                body["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
        else:
            body["query"] = self.query
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


# -- the jobs -------------------------------------------------------------------------------------------------------
class BulkJobs:
    """All Bulk 2.0 jobs of one org and the worker thread that runs them."""

    def __init__(self, org: Emulator) -> None:
        self._org = org
        self._jobs: dict[str, BulkJob] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="bulk2-worker", daemon=True)
        self._worker.start()

    # -- creating and finding ------------------------------------------------------------------------------------
    def create(self, kind: str, body: Any, ctx: CallContext, version: str) -> BulkJob:
        """A new job from a create request's JSON body (400 INVALIDJOB for a bad one)."""
        if not isinstance(body, dict):
            raise invalid_job("InvalidJob : The request body must be a JSON object describing the job")
        operation = body.get("operation")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in COLUMN_DELIMITERS:
            raise invalid_job(f"InvalidJob : Invalid column delimiter: {delimiter}")
        if line_ending not in LINE_ENDINGS:
            raise invalid_job(f"InvalidJob : Invalid line ending: {line_ending}")
        if body.get("contentType", "CSV") != "CSV":
            raise invalid_job(f"InvalidJob : Unsupported content type: {body.get('contentType')}")
        common = {"created_by": ctx.user_id, "client": ctx.client, "created": ctx.now, "api_version": version,
                  "column_delimiter": delimiter, "line_ending": line_ending}
        if kind == QUERY:
            if operation not in QUERY_OPERATIONS:
                raise invalid_job(f"InvalidJob : Invalid operation for a query job: {operation}")
            query = body.get("query")
            if not isinstance(query, str) or not query.strip():
                raise invalid_job("InvalidJob : A query job needs a query")
            job = BulkJob(self._new_id(), QUERY, operation, "", query=query, state=UPLOAD_COMPLETE, **common)
            try:
                job.compiled = compile_bulk_query(self._org, query, include_deleted=operation == "queryAll",
                                                  ctx=ctx)
                job.object_name = job.compiled.obj.name
            except SoqlError as exc:
                # Salesforce accepts the job and fails it while processing; the poll reports why.
                job.error_message = f"{exc.error_code}: {exc.message}"
        else:
            if operation not in INGEST_OPERATIONS:
                raise invalid_job(f"InvalidJob : Invalid operation for an ingest job: {operation}")
            schema = object_schema(str(body.get("object") or ""))
            if schema is None:
                raise invalid_job(f"InvalidJob : Unable to find object: {body.get('object')}")
            external = body.get("externalIdFieldName")
            if operation == "upsert":
                external = self.external_id_field(schema, external)
            job = BulkJob(self._new_id(), INGEST, operation, schema.name,
                          external_id_field=external if operation == "upsert" else None, **common)
        with self._lock:
            self._expire(ctx.now)
            self._jobs[job.id] = job
        if job.state == UPLOAD_COMPLETE:
            self._queue.put(job.id)
        return job

    @staticmethod
    def external_id_field(schema: ObjectSchema, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise invalid_job(f"InvalidJob : External ID was blank for {schema.name}. An External ID must be "
                              "specified for upsert.")
        spec = schema.field(name)
        if spec is None or not (spec.external_id or spec.type == "id"):
            raise invalid_job(f"InvalidJob : Field name provided, {name} is not an External ID or indexed field "
                              f"for {schema.name}")
        return spec.name

    def _expire(self, now: datetime) -> None:
        """Forget finished jobs older than the retention period (called under the lock)."""
        cutoff = now - JOB_RETENTION
        expired = [job.id for job in self._jobs.values()
                   if job.state in FINISHED_STATES and (job.modified or job.created) < cutoff]
        for job_id in expired:
            del self._jobs[job_id]

    def _new_id(self) -> str:
        return make_id(JOB_KEY_PREFIX, self._org.records.pod, self._org.store.next_sequence(JOB_KEY_PREFIX))

    def get(self, job_id: str, kind: str) -> BulkJob:
        """The job (of that kind) with this id, in 15- or 18-character form, or 404 NOT_FOUND."""
        try:
            canonical = to_18(job_id)
        except ValueError:
            raise not_found() from None
        with self._lock:
            job = self._jobs.get(canonical)
        if job is None or job.kind != kind:
            raise not_found()
        return job

    def all(self, kind: str) -> list[BulkJob]:
        with self._lock:
            return [j for j in self._jobs.values() if j.kind == kind]

    def clear(self) -> None:
        """Forget every job (the control plane's reset); a job the worker is running finishes unseen."""
        with self._lock:
            self._jobs.clear()

    def delete(self, job: BulkJob) -> None:
        """Remove a job that is not running (Open and InProgress jobs must be aborted first)."""
        if job.state in (OPEN, IN_PROGRESS):
            raise invalid_state(f"Deleting a job in state {job.state} is not allowed; abort it first")
        with self._lock:
            self._jobs.pop(job.id, None)

    # -- state changes -------------------------------------------------------------------------------------------
    def upload(self, job: BulkJob, data: bytes) -> None:
        """Attach the job's CSV (once per job, only while Open)."""
        with self._lock:
            if job.state != OPEN:
                raise invalid_state(f"Job {job.id} is not Open (state {job.state}); data can only be uploaded to "
                                    "an Open job")
            if job.data is not None:
                raise invalid_state(f"Found multiple contents for job: <{job.id}>, please 'Close' / 'Abort' / "
                                    "'Delete' the current Job then create a new Job and make sure you only do "
                                    "'PUT' once on a given Job.")
            if not data.strip():
                raise ApiError(400, "INVALIDBATCH", "InvalidBatch : The uploaded data is empty")
            job.data = data

    def change_state(self, job: BulkJob, body: Any) -> BulkJob:
        """PATCH: close an Open ingest job (UploadComplete) or abort an unfinished job (Aborted)."""
        wanted = body.get("state") if isinstance(body, dict) else None
        if wanted not in (UPLOAD_COMPLETE, ABORTED) or (wanted == UPLOAD_COMPLETE and job.kind == QUERY):
            raise invalid_state(f"Invalid state change to {wanted}: a {job.kind} job can only be set to "
                                + ("Aborted" if job.kind == QUERY else "UploadComplete or Aborted"))
        with self._lock:
            if wanted == ABORTED:
                if job.state in FINISHED_STATES:
                    verb = {JOB_COMPLETE: "Completed", FAILED: "Failed", ABORTED: "Aborted"}[job.state]
                    raise invalid_state(f"Aborting already {verb} Job not allowed")
                self._finish(job, ABORTED)
                return job
            if job.state != OPEN:
                raise invalid_state(f"Closing a job in state {job.state} is not allowed; only an Open job can be "
                                    "set to UploadComplete")
            job.state = UPLOAD_COMPLETE
            job.modified = self._org.clock.now()
        self._queue.put(job.id)
        return job

    def _finish(self, job: BulkJob, state: str, error: str | None = None) -> None:
        job.state = state
        job.error_message = error
        job.modified = self._org.clock.now()

    # -- the worker ----------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or job.state != UPLOAD_COMPLETE:
                    continue
                job.state = IN_PROGRESS
                job.modified = self._org.clock.now()
            started = time.monotonic()
            try:
                if job.kind == QUERY:
                    self._run_query(job)
                else:
                    self._run_ingest(job)
            except ValueError as exc:
                with self._lock:
                    self._finish(job, FAILED, str(exc))
            except Exception:
                log.exception("bulk job %s crashed", job.id)
                with self._lock:
                    self._finish(job, FAILED, "UNKNOWN_EXCEPTION: An unexpected error occurred in the emulator")
            job.processing_ms = int((time.monotonic() - started) * 1000)

    def _context(self, job: BulkJob) -> CallContext:
        return self._org.context(job.created_by, job.client)

    def _run_query(self, job: BulkJob) -> None:
        compiled = job.compiled
        if compiled is None:
            raise ValueError(job.error_message or "MALFORMED_QUERY: the query could not be compiled")
        if compiled.is_count:
            raise ValueError("INVALID_TYPE_FOR_OPERATION: Aggregate queries are not supported by Bulk API 2.0")
        schema = object_schema(compiled.obj.name)
        assert schema is not None
        rowids = self._org.queries.matching_rowids(compiled)
        with self._lock:
            if job.state == IN_PROGRESS:
                job.snapshot = _QuerySnapshot(schema, [f.name for f in compiled.fields], rowids)
                self._finish(job, JOB_COMPLETE)

    def _run_ingest(self, job: BulkJob) -> None:
        if job.data is None:
            raise ValueError("InvalidBatch : No data was uploaded for this job")
        header, rows = read_csv(job.data, job.delimiter)
        schema = object_schema(job.object_name)
        assert schema is not None
        writer = RowWriter(self._org, schema, header, job.operation, job.external_id_field, job.api_version)
        job.header = header
        for start in range(0, len(rows), INGEST_CHUNK):
            if job.state != IN_PROGRESS:
                job.unprocessed.extend(rows[start:])
                return
            try:
                outcomes = writer.run_chunk(rows[start:start + INGEST_CHUNK], self._context(job))
            except Exception:
                job.unprocessed.extend(rows[start:])  # the chunk was rolled back: none of it happened
                raise
            for outcome in outcomes:
                if outcome.error is None:
                    job.successful.append([outcome.record_id, "true" if outcome.created else "false", *outcome.row])
                else:
                    job.failed.append([outcome.record_id, bulk_error_text(outcome.error), *outcome.row])
        with self._lock:
            if job.state == IN_PROGRESS:
                self._finish(job, JOB_COMPLETE)

    # -- results -------------------------------------------------------------------------------------------------
    def query_page(self, job: BulkJob, locator: str | None, max_records: int | None) -> tuple[str, str, int]:
        """One page of a completed query job: (CSV with header, next locator or 'null', records in the page)."""
        if job.state != JOB_COMPLETE or job.snapshot is None:
            raise invalid_state(f"Query job {job.id} is in state {job.state}; results are available once it is "
                                "JobComplete")
        if max_records is not None and max_records < 1:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "maxRecords must be a positive integer")
        snapshot = job.snapshot
        start = _decode_locator(locator, len(snapshot.rowids)) if locator else 0
        end = len(snapshot.rowids) if max_records is None else min(len(snapshot.rowids), start + max_records)
        page = snapshot.rowids[start:end]
        specs = [snapshot.schema.fields[name.lower()] for name in snapshot.names]
        stored = read_rows(self._org, snapshot.schema, snapshot.names, page)
        rows = ([csv_value(spec, row[spec.name]) for spec in specs] for row in stored)
        body = write_csv(itertools.chain([snapshot.names], rows), job.delimiter, job.newline)
        next_locator = _encode_locator(end) if end < len(snapshot.rowids) else "null"
        return body, next_locator, len(page)

    def ingest_results(self, job: BulkJob, which: str) -> str:
        """`successfulResults`, `failedResults` or `unprocessedrecords` as CSV (header row always present)."""
        with self._lock:
            header, unprocessed = job.header, job.unprocessed
            if not header and job.data is not None:
                # Never processed (still Open, aborted before it ran, or failed on its header): every row is left.
                try:
                    header, unprocessed = read_csv(job.data, job.delimiter)
                except ValueError:
                    header, unprocessed = [], []
            if which == "successful":
                head, rows = ["sf__Id", "sf__Created"], job.successful
            elif which == "failed":
                head, rows = ["sf__Id", "sf__Error"], job.failed
            else:
                head, rows = [], unprocessed
            return write_csv([[*head, *header], *rows], job.delimiter, job.newline)


def _encode_locator(position: int) -> str:
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def _decode_locator(locator: str, total: int) -> int:
    try:
        position = int(base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        position = -1
    if not 0 <= position < total:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}")
    return position


jobs_of: PerOrg[BulkJobs] = PerOrg(BulkJobs)  # each org's bulk job registry, with its worker
