"""Bulk API 2.0 (`/services/data/vXX.X/jobs/`): query and ingest jobs, their data and results.

Every request is an API call like any other: authenticated, counted (as
`bulk2_query` / `bulk2_ingest`) and refused once the daily allowance is spent.
The jobs themselves and their processing live in `sf_emulator.bulk_jobs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from sf_emulator.api import ApiCall, JsonBody, add_route, api_call
from sf_emulator.bulk_jobs import INGEST, QUERY, BulkJob, BulkJobs, jobs_of

router = APIRouter(prefix="/services/data/v{version}")
QueryJobCall = Annotated[ApiCall, Depends(api_call("bulk2_query"))]
IngestJobCall = Annotated[ApiCall, Depends(api_call("bulk2_ingest"))]
_CSV = "text/csv; charset=UTF-8"


def _jobs(call: ApiCall) -> BulkJobs:
    return jobs_of(call.emulator)


def _listing(jobs: list[BulkJob]) -> dict:
    return {"done": True, "records": [job.info() for job in jobs], "nextRecordsUrl": None}


# -- query jobs -------------------------------------------------------------------------------------------------------
def create_query_job(call: QueryJobCall, body: JsonBody) -> dict:
    return _jobs(call).create(QUERY, body, call.ctx, call.version).info()


def list_query_jobs(call: QueryJobCall) -> dict:
    return _listing(_jobs(call).all(QUERY))


def get_query_job(job_id: str, call: QueryJobCall) -> dict:
    return _jobs(call).get(job_id, QUERY).info()


def patch_query_job(job_id: str, call: QueryJobCall, body: JsonBody) -> dict:
    jobs = _jobs(call)
    return jobs.change_state(jobs.get(job_id, QUERY), body).info()


def delete_query_job(job_id: str, call: QueryJobCall) -> Response:
    jobs = _jobs(call)
    jobs.delete(jobs.get(job_id, QUERY))
    return Response(status_code=204)


def query_results(job_id: str, call: QueryJobCall, locator: str | None = None,
                  max_records: Annotated[int | None, Query(alias="maxRecords")] = None) -> Response:
    """One page of CSV; `Sforce-Locator` names the next page ('null' after the last one)."""
    jobs = _jobs(call)
    body, next_locator, count = jobs.query_page(jobs.get(job_id, QUERY), locator, max_records)
    return Response(body, media_type=_CSV,
                    headers={"Sforce-Locator": next_locator, "Sforce-NumberOfRecords": str(count)})


# -- ingest jobs ------------------------------------------------------------------------------------------------------
def create_ingest_job(call: IngestJobCall, body: JsonBody) -> dict:
    return _jobs(call).create(INGEST, body, call.ctx, call.version).info()


def list_ingest_jobs(call: IngestJobCall) -> dict:
    return _listing(_jobs(call).all(INGEST))


def get_ingest_job(job_id: str, call: IngestJobCall) -> dict:
    return _jobs(call).get(job_id, INGEST).info()


def patch_ingest_job(job_id: str, call: IngestJobCall, body: JsonBody) -> dict:
    jobs = _jobs(call)
    return jobs.change_state(jobs.get(job_id, INGEST), body).info()


def delete_ingest_job(job_id: str, call: IngestJobCall) -> Response:
    jobs = _jobs(call)
    jobs.delete(jobs.get(job_id, INGEST))
    return Response(status_code=204)


async def upload_batch(job_id: str, call: IngestJobCall, request: Request) -> Response:
    """PUT the job's CSV: 201 Created, no body."""
    jobs = _jobs(call)
    jobs.upload(jobs.get(job_id, INGEST), await request.body())
    return Response(status_code=201)


def _results(which: str) -> Callable[[str, ApiCall], Response]:
    def endpoint(job_id: str, call: IngestJobCall) -> Response:
        jobs = _jobs(call)
        return Response(jobs.ingest_results(jobs.get(job_id, INGEST), which), media_type=_CSV)

    endpoint.__name__ = f"{which}_results"
    return endpoint


add_route(router, "/jobs/query", create_query_job, ["POST"])
add_route(router, "/jobs/query", list_query_jobs, ["GET"])
add_route(router, "/jobs/query/{job_id}", get_query_job, ["GET"])
add_route(router, "/jobs/query/{job_id}", patch_query_job, ["PATCH"])
add_route(router, "/jobs/query/{job_id}", delete_query_job, ["DELETE"])
add_route(router, "/jobs/query/{job_id}/results", query_results, ["GET"])
add_route(router, "/jobs/ingest", create_ingest_job, ["POST"])
add_route(router, "/jobs/ingest", list_ingest_jobs, ["GET"])
add_route(router, "/jobs/ingest/{job_id}", get_ingest_job, ["GET"])
add_route(router, "/jobs/ingest/{job_id}", patch_ingest_job, ["PATCH"])
add_route(router, "/jobs/ingest/{job_id}", delete_ingest_job, ["DELETE"])
add_route(router, "/jobs/ingest/{job_id}/batches", upload_batch, ["PUT"])
add_route(router, "/jobs/ingest/{job_id}/successfulResults", _results("successful"), ["GET"])
add_route(router, "/jobs/ingest/{job_id}/failedResults", _results("failed"), ["GET"])
# The documented name is `unprocessedrecords`; simple-salesforce asks for `unprocessedRecords`.
add_route(router, "/jobs/ingest/{job_id}/unprocessedrecords", _results("unprocessed"), ["GET"])
add_route(router, "/jobs/ingest/{job_id}/unprocessedRecords", _results("unprocessed"), ["GET"])
