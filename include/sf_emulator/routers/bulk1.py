"""Bulk API 1.0 (`/services/async/{version}/job`): jobs, their batches, batch requests and results.

Every request is an API call like any other: the session comes in `X-SFDC-Session`
(or a bearer `Authorization`), it is counted as `bulk1` and refused once the daily
allowance is spent (403 ExceededQuota). Answers are XML unless the client speaks
JSON; errors are AsyncApiExceptions (the app routes `ApiError`s raised under
`/services/async/` through `bulk1_wire.error_response`). State lives in
`sf_emulator.bulk1_jobs`, encodings in `sf_emulator.bulk1_wire`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from sf_emulator.api import SUPPORTED_VERSIONS, ApiCall, add_route, client_name, emulator
from sf_emulator.bulk1_jobs import Bulk1Jobs, bulk1_jobs_of
from sf_emulator.bulk1_wire import (
    CSV_TYPE,
    JSON_TYPE,
    XML_TYPE,
    async_error,
    batch_list_response,
    dml_results_response,
    info_response,
    parse_job_request,
    query_result_response,
    result_list_response,
    wants_json,
)

PREFIX = "/services/async/"
router = APIRouter(prefix="/services/async/{version}")
_MEDIA = {"CSV": CSV_TYPE, "JSON": JSON_TYPE, "XML": XML_TYPE}


def bulk1_call(request: Request, version: str) -> ApiCall:
    """Authenticate by `X-SFDC-Session` (Bulk 1.0's header) or `Authorization`, then count one call."""
    org = emulator(request)
    if version not in SUPPORTED_VERSIONS:
        raise async_error("InvalidUrl", f"Unsupported API version: {version}")
    session = request.headers.get("x-sfdc-session")
    user_id = org.sessions.user_for(f"Bearer {session}" if session else request.headers.get("authorization"))
    org.accounting.charge("bulk1")
    return ApiCall(org, org.context(user_id, client_name(request.headers.get("sforce-call-options"))), version)


Bulk1Call = Annotated[ApiCall, Depends(bulk1_call)]


def _jobs(call: ApiCall) -> Bulk1Jobs:
    return bulk1_jobs_of(call.emulator)


async def create_job(call: Bulk1Call, request: Request) -> Response:
    as_json = wants_json(request)
    info = _jobs(call).create(parse_job_request(await request.body(), as_json), call.ctx, call.version)
    return info_response("jobInfo", info, as_json, status=201)


def get_job(job_id: str, call: Bulk1Call, request: Request) -> Response:
    jobs = _jobs(call)
    return info_response("jobInfo", jobs.info(jobs.get(job_id)), wants_json(request))


async def update_job(job_id: str, call: Bulk1Call, request: Request) -> Response:
    """POST a jobInfo with `state` Closed or Aborted."""
    jobs = _jobs(call)
    job = jobs.get(job_id)
    as_json = wants_json(request)
    return info_response("jobInfo", jobs.change_state(job, parse_job_request(await request.body(), as_json)),
                         as_json)


async def add_batch(job_id: str, call: Bulk1Call, request: Request) -> Response:
    jobs = _jobs(call)
    job = jobs.get(job_id)
    return info_response("batchInfo", jobs.add_batch(job, await request.body(), call.ctx), wants_json(request),
                         status=201)


def list_batches(job_id: str, call: Bulk1Call, request: Request) -> Response:
    jobs = _jobs(call)
    return batch_list_response(jobs.batch_infos(jobs.get(job_id)), wants_json(request))


def get_batch(job_id: str, batch_id: str, call: Bulk1Call, request: Request) -> Response:
    jobs = _jobs(call)
    batch = jobs.batch(jobs.get(job_id), batch_id)
    return info_response("batchInfo", jobs.batch_info(batch), wants_json(request))


def batch_request(job_id: str, batch_id: str, call: Bulk1Call) -> Response:
    """The batch's data as it was sent (the query text for a query batch)."""
    jobs = _jobs(call)
    job = jobs.get(job_id)
    return Response(jobs.batch(job, batch_id).data, media_type=_MEDIA[job.content_type])


def batch_result(job_id: str, batch_id: str, call: Bulk1Call, request: Request) -> Response:
    """A DML batch's per-row results, or a query batch's list of result ids."""
    jobs = _jobs(call)
    job = jobs.get(job_id)
    batch = jobs.finished(jobs.batch(job, batch_id))
    if job.is_query:
        assert batch.snapshot is not None
        return result_list_response([batch.snapshot.result_id], wants_json(request) or job.content_type == "JSON")
    return dml_results_response(batch.outcomes, job.content_type)


def query_result(job_id: str, batch_id: str, result_id: str, call: Bulk1Call) -> Response:
    jobs = _jobs(call)
    job = jobs.get(job_id)
    schema, names, rows = jobs.query_rows(job, jobs.batch(job, batch_id), result_id)
    return query_result_response(schema, names, rows, job.content_type, call.version)


add_route(router, "/job", create_job, ["POST"])
add_route(router, "/job/{job_id}", get_job, ["GET"])
add_route(router, "/job/{job_id}", update_job, ["POST"])
add_route(router, "/job/{job_id}/batch", add_batch, ["POST"])
add_route(router, "/job/{job_id}/batch", list_batches, ["GET"])
add_route(router, "/job/{job_id}/batch/{batch_id}", get_batch, ["GET"])
add_route(router, "/job/{job_id}/batch/{batch_id}/request", batch_request, ["GET"])
add_route(router, "/job/{job_id}/batch/{batch_id}/result", batch_result, ["GET"])
add_route(router, "/job/{job_id}/batch/{batch_id}/result/{result_id}", query_result, ["GET"])
