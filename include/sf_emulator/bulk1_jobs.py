"""Bulk API 1.0 jobs and batches: their states, the worker that processes batches, their results.

In Bulk 1.0 a job only names the object, operation and content type; the data
comes in batches, each processed on its own as soon as it is added (while the
job is still Open) and reported per batch: Queued, InProgress, then Completed
(rows may still have failed one by one) or Failed (the whole batch could not be
read). Closing a job means "no more batches"; aborting it leaves its queued
batches NotProcessed. Like Bulk 2.0 jobs they live in memory.

The rows go through `bulk_rows.RowWriter` and queries through
`compile_bulk_query` + `QueryEngine.matching_rowids`, the same code as Bulk 2.0
and REST, so a record written here is indistinguishable from one written there.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sf_emulator.bulk1_wire import CONTENT_TYPES, async_error, batch_rows
from sf_emulator.bulk_jobs import INGEST_CHUNK, JOB_KEY_PREFIX, BulkJobs
from sf_emulator.bulk_rows import WRITE_OPERATIONS, RowOutcome, RowWriter, compile_bulk_query, read_rows
from sf_emulator.ids import make_id, to_18
from sf_emulator.org import Emulator
from sf_emulator.per_org import PerOrg
from sf_emulator.records import CallContext
from sf_emulator.schema import ObjectSchema, object_schema
from sf_emulator.soql import SoqlError
from sf_emulator.wire import ApiError

log = logging.getLogger(__name__)

BATCH_KEY_PREFIX, RESULT_KEY_PREFIX = "751", "752"
OPEN, CLOSED, ABORTED, FAILED = "Open", "Closed", "Aborted", "Failed"
QUEUED, IN_PROGRESS, COMPLETED, NOT_PROCESSED = "Queued", "InProgress", "Completed", "NotProcessed"
BATCH_FINISHED = frozenset({COMPLETED, FAILED, NOT_PROCESSED})
QUERY_OPERATIONS = ("query", "queryAll")
#: Salesforce refuses a batch of more than 10,000 records (clients split their data to fit).
MAX_BATCH_RECORDS = 10_000
#: How long a batch info request for an unfinished batch waits for it: pollers that sleep a fixed time
#: (simple-salesforce: 5 s) then see the answer Salesforce would give a moment later, without the sleep.
BATCH_INFO_WAIT = 1.0
_CONCURRENCY = {"parallel": "Parallel", "serial": "Serial", "0": "Parallel", "1": "Serial"}


@dataclass
class _Snapshot:
    schema: ObjectSchema
    names: list[str]
    rowids: array
    result_id: str


@dataclass
class Batch1:
    """One batch: its data as sent, its state and, once processed, its outcomes or query snapshot."""

    id: str
    job_id: str
    created: datetime
    data: bytes
    state: str = QUEUED
    modified: datetime | None = None
    state_message: str | None = None
    outcomes: list[RowOutcome] = field(default_factory=list)
    snapshot: _Snapshot | None = None
    processing_ms: int = 0

    @property
    def processed(self) -> int:
        return len(self.snapshot.rowids) if self.snapshot else len(self.outcomes)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.error is not None)

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "jobId": self.job_id, "state": self.state, "stateMessage": self.state_message,
                "createdDate": self.created, "systemModstamp": self.modified or self.created,
                "numberRecordsProcessed": self.processed, "numberRecordsFailed": self.failed,
                "totalProcessingTime": self.processing_ms, "apiActiveProcessingTime": self.processing_ms,
                "apexProcessingTime": 0}


@dataclass
class Job1:
    """One job: what its batches do, in which format, and its batches in creation order."""

    id: str
    operation: str
    schema: ObjectSchema
    content_type: str
    concurrency: str
    external_id_field: str | None
    created_by: str
    client: str | None
    created: datetime
    api_version: str
    state: str = OPEN
    modified: datetime | None = None
    batches: list[Batch1] = field(default_factory=list)

    @property
    def is_query(self) -> bool:
        return self.operation in QUERY_OPERATIONS

    def info(self) -> dict[str, Any]:
        count = {state: sum(1 for b in self.batches if b.state == state)
                 for state in (QUEUED, IN_PROGRESS, COMPLETED, FAILED)}
        processing = sum(b.processing_ms for b in self.batches)
        return {"id": self.id, "operation": self.operation, "object": self.schema.name,
                "createdById": self.created_by, "createdDate": self.created,
                "systemModstamp": self.modified or self.created, "state": self.state,
                "externalIdFieldName": self.external_id_field, "concurrencyMode": self.concurrency,
                "contentType": self.content_type, "numberBatchesQueued": count[QUEUED],
                "numberBatchesInProgress": count[IN_PROGRESS], "numberBatchesCompleted": count[COMPLETED],
                "numberBatchesFailed": count[FAILED], "numberBatchesTotal": len(self.batches),
                "numberRecordsProcessed": sum(b.processed for b in self.batches), "numberRetries": 0,
                "apiVersion": float(self.api_version),
                "numberRecordsFailed": sum(b.failed for b in self.batches),
                "totalProcessingTime": processing, "apiActiveProcessingTime": processing, "apexProcessingTime": 0}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class Bulk1Jobs:
    """All Bulk 1.0 jobs of one org and the worker thread that processes their batches in arrival order."""

    def __init__(self, org: Emulator) -> None:
        self._org = org
        self._jobs: dict[str, Job1] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: queue.Queue[tuple[Job1, Batch1]] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="bulk1-worker", daemon=True)
        self._worker.start()

    def _new_id(self, prefix: str) -> str:
        return make_id(prefix, self._org.records.pod, self._org.store.next_sequence(prefix))

    # -- jobs --------------------------------------------------------------------------------------------------
    def create(self, request: dict[str, Any], ctx: CallContext, version: str) -> dict[str, Any]:
        """A new Open job from a jobInfo request; 400 InvalidJob for a bad one. Returns its info."""
        operation = _text(request.get("operation"))
        if operation not in (*WRITE_OPERATIONS, *QUERY_OPERATIONS):
            raise async_error("InvalidJob", f"Invalid operation: {operation or '(none)'}")
        schema = object_schema(_text(request.get("object")))
        if schema is None:
            raise async_error("InvalidJob", f"Unable to find object: {_text(request.get('object'))}")
        content_type = _text(request.get("contentType")) or "XML"
        if content_type not in CONTENT_TYPES:
            raise async_error("InvalidJob", f"Unsupported content type: {content_type} (use CSV, JSON or XML)")
        concurrency = _CONCURRENCY.get(_text(request.get("concurrencyMode")).lower() or "parallel")
        if concurrency is None:
            raise async_error("InvalidJob", f"Invalid concurrency mode: {request.get('concurrencyMode')}")
        external = None
        if operation == "upsert":
            try:
                external = BulkJobs.external_id_field(schema, _text(request.get("externalIdFieldName")))
            except ApiError as exc:
                raise async_error("InvalidJob", exc.message.removeprefix("InvalidJob : ")) from None
        job = Job1(self._new_id(JOB_KEY_PREFIX), operation, schema, content_type, concurrency, external,
                   ctx.user_id, ctx.client, ctx.now, version)
        with self._lock:
            self._jobs[job.id] = job
            return job.info()

    def get(self, job_id: str) -> Job1:
        """The job with this id (15 or 18 characters), or 400 InvalidJob."""
        try:
            canonical = to_18(job_id)
        except ValueError:
            canonical = ""
        with self._lock:
            job = self._jobs.get(canonical)
        if job is None:
            raise async_error("InvalidJob", f"Unable to find job with id: {job_id}")
        return job

    def info(self, job: Job1) -> dict[str, Any]:
        with self._lock:
            return job.info()

    def change_state(self, job: Job1, request: dict[str, Any]) -> dict[str, Any]:
        """Close (no more batches) or abort (queued batches are not processed) a job; returns its info."""
        wanted = _text(request.get("state"))
        if wanted not in (CLOSED, ABORTED):
            raise async_error("InvalidJobState", f"Invalid state change to {wanted or '(none)'}: a job can only "
                              "be set to Closed or Aborted")
        with self._lock:
            if job.state in (ABORTED, FAILED) or (wanted == CLOSED and job.state != OPEN):
                raise async_error("InvalidJobState", f"Job {job.id} is {job.state} and cannot be set to {wanted}")
            job.state = wanted
            job.modified = self._org.clock.now()
            if wanted == ABORTED:
                for batch in job.batches:
                    if batch.state == QUEUED:
                        batch.state, batch.modified = NOT_PROCESSED, job.modified
                self._changed.notify_all()
            return job.info()

    def clear(self) -> None:
        """Forget every job (the control plane's reset); a batch being processed finishes unseen."""
        with self._lock:
            self._jobs.clear()

    # -- batches -----------------------------------------------------------------------------------------------
    def add_batch(self, job: Job1, data: bytes, ctx: CallContext) -> dict[str, Any]:
        """Queue a batch on an Open job; returns its info as accepted (Queued)."""
        if not data.strip():
            raise async_error("InvalidBatch", "The batch is empty")
        with self._lock:
            if job.state != OPEN:
                raise async_error("InvalidJobState", f"Job {job.id} is {job.state}: batches can only be added to "
                                  "an Open job")
            batch = Batch1(self._new_id(BATCH_KEY_PREFIX), job.id, ctx.now, data)
            job.batches.append(batch)
            info = batch.info()
        self._queue.put((job, batch))
        return info

    def batch(self, job: Job1, batch_id: str) -> Batch1:
        """A batch of this job, or 400 InvalidBatch."""
        try:
            canonical = to_18(batch_id)
        except ValueError:
            canonical = ""
        with self._lock:
            found = next((b for b in job.batches if b.id == canonical), None)
        if found is None:
            raise async_error("InvalidBatch", f"Unable to find batch {batch_id} in job {job.id}")
        return found

    def batch_infos(self, job: Job1) -> list[dict[str, Any]]:
        with self._lock:
            return [b.info() for b in job.batches]

    def batch_info(self, batch: Batch1, wait: float = BATCH_INFO_WAIT) -> dict[str, Any]:
        """The batch's info, once finished or after `wait` seconds, whichever is first."""
        deadline = time.monotonic() + wait
        with self._lock:
            while batch.state not in BATCH_FINISHED and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return batch.info()

    def finished(self, batch: Batch1) -> Batch1:
        """The batch if its results can be read, else 400 InvalidBatch."""
        with self._lock:
            if batch.state != COMPLETED:
                raise async_error("InvalidBatch", f"Unable to retrieve results: batch {batch.id} is {batch.state}"
                                  + (f" ({batch.state_message})" if batch.state_message else ""))
        return batch

    def query_rows(self, job: Job1, batch: Batch1, result_id: str) -> tuple[ObjectSchema, list[str], Any]:
        """The schema, field names and rows of a query batch's result file."""
        snapshot = self.finished(batch).snapshot
        try:
            wanted = to_18(result_id)
        except ValueError:
            wanted = ""
        if snapshot is None or wanted != snapshot.result_id:
            raise async_error("InvalidBatch", f"Unable to find result {result_id} of batch {batch.id}")
        names = list(dict.fromkeys(["Id", *snapshot.names]))
        return snapshot.schema, snapshot.names, read_rows(self._org, snapshot.schema, names, snapshot.rowids)

    # -- the worker --------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job, batch = self._queue.get()
            with self._lock:
                if batch.state != QUEUED:
                    continue
                batch.state, batch.modified = IN_PROGRESS, self._org.clock.now()
            started = time.monotonic()
            state, message = COMPLETED, None
            try:
                if job.is_query:
                    self._run_query(job, batch)
                else:
                    self._run_writes(job, batch)
            except ValueError as exc:
                state, message = FAILED, str(exc)
            except Exception:
                log.exception("bulk 1.0 batch %s crashed", batch.id)
                state, message = FAILED, "Unknown : An unexpected error occurred in the emulator"
            with self._lock:
                batch.processing_ms = int((time.monotonic() - started) * 1000)
                batch.state, batch.state_message, batch.modified = state, message, self._org.clock.now()
                self._changed.notify_all()

    def _context(self, job: Job1) -> CallContext:
        return self._org.context(job.created_by, job.client)

    def _run_query(self, job: Job1, batch: Batch1) -> None:
        try:
            soql = batch.data.decode("utf-8-sig")
            compiled = compile_bulk_query(self._org, soql, include_deleted=job.operation == "queryAll",
                                          ctx=self._context(job))
        except UnicodeDecodeError:
            raise ValueError("InvalidBatch : The query is not valid UTF-8") from None
        except SoqlError as exc:
            raise ValueError(f"InvalidBatch : Failed to process query: {exc.error_code}: {exc.message}") from None
        if compiled.is_count:
            raise ValueError("InvalidBatch : Failed to process query: Aggregate queries are not supported by "
                             "Bulk API")
        if compiled.obj.name.lower() != job.schema.name.lower():
            raise ValueError(f"InvalidBatch : The query is on {compiled.obj.name} but the job is for "
                             f"{job.schema.name}")
        rowids = self._org.queries.matching_rowids(compiled)
        batch.snapshot = _Snapshot(job.schema, [f.name for f in compiled.fields], rowids,
                                   self._new_id(RESULT_KEY_PREFIX))

    def _run_writes(self, job: Job1, batch: Batch1) -> None:
        header, rows = batch_rows(job.content_type, batch.data)
        if len(rows) > MAX_BATCH_RECORDS:
            raise ValueError(f"InvalidBatch : Records exceeds limit: the batch has {len(rows)} records, "
                             f"at most {MAX_BATCH_RECORDS} are allowed")
        writer = RowWriter(self._org, job.schema, header, job.operation, job.external_id_field, job.api_version)
        for start in range(0, len(rows), INGEST_CHUNK):
            batch.outcomes.extend(writer.run_chunk(rows[start:start + INGEST_CHUNK], self._context(job)))


bulk1_jobs_of: PerOrg[Bulk1Jobs] = PerOrg(Bulk1Jobs)  # each org's bulk 1.0 job registry, with its worker
