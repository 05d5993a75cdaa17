"""The control plane under `/_emulator/`: clock, counters, faults, reset/seed, limits, raw dumps.

Not part of Salesforce's API: no session, not counted, refused unless the
caller is on the loopback interface. Bodies and answers are JSON; a bad body
gets 400 `{"detail": "..."}`.

    GET    info              instance_url, org_id, api_user_id, users[], consumer_key/secret
    GET    clock             {"now": iso, "offset_seconds": s}
    POST   clock             {"now": iso-with-offset} | {"advance_seconds": n}   (purges the recycle bin)
    GET    counters          {"total", "by_resource": {family: n}, "api_usage": {"used", "max"}}
    POST   counters/reset
    GET    limits            {"daily_api_requests", "used", "replication_ids"}
    POST   limits            {"daily_api_requests": n, "replication_ids": n}   (either or both)
    GET    faults            {"requests": [...], "row_locks": [...]}
    POST   faults            {"kind": http_503|http_500|expired_session|delay|response_lost, "count", "path", "method",
                              "delay_ms"} | {"kind": "lock_rows", "ids": [...], "count": n|null}
    DELETE faults
    POST   reset             {"seed": "default"|"empty"|<seed document>}   (sessions survive)
    POST   seed              <seed document> (see sf_emulator.seed)
    POST   archive           {"archived": n}
    POST   empty-recycle-bin {"before": iso-with-offset}? -> {"purged": n, "earliest_date_available": wire}
    POST   undelete          {"ids": [...]}  ->  {"undeleted": [...]}   (from the recycle bin, as the UI does)
    POST   sessions          {"username"} | {"user_id"} [+ "refresh_token": true]  ->  {"session_id", "user_id"
                              [, "refresh_token"]}   (a refresh token: the user approved the OAuth app)
    DELETE sessions          [?session_id=]  ->  {"revoked": n}
    GET    fields            {"Task": {"Sales_Connect_Id__c": {changes}}}: custom fields as the admin changed them
    POST   fields            {"object": "Task", "field": "Sales_Connect_Id__c", "deleted"|"visible"|"external_id"|
                              "unique"|"createable"|"updateable": bool, "length": n}   (only custom fields)
    DELETE fields            every custom field back as shipped
    GET    tasks             [?ids=a,b&limit=n]  ->  {"records": [... + LastWriteClient, DeletedDate], ...}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from sf_emulator.api import JsonBody, emulator
from sf_emulator.bulk1_jobs import bulk1_jobs_of
from sf_emulator.bulk_jobs import jobs_of
from sf_emulator.custom_fields import FieldChangeError
from sf_emulator.org import Emulator
from sf_emulator.records import wire_value
from sf_emulator.routers.auth import CONSUMER_KEY, CONSUMER_SECRET
from sf_emulator.schema import TASK
from sf_emulator.seed import SeedError, apply_seed, seed_base
from sf_emulator.wire import parse_datetime, storage_to_wire, to_wire


def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else ""
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise HTTPException(403, "the emulator's control plane answers only on the loopback interface")


router = APIRouter(prefix="/_emulator", dependencies=[Depends(_loopback_only)])
Org = Annotated[Emulator, Depends(emulator)]


def _object(body: Any, what: str) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HTTPException(400, f"{what}: expected a JSON object")
    return body


def _clock(org: Emulator) -> dict:
    return {"now": org.clock.now().isoformat(), "offset_seconds": org.clock.offset.total_seconds()}


@router.get("/info")
def info(org: Org) -> dict:
    """Where the org is and who is in it: instance URL, org id, the integration user, users, OAuth app."""
    users = [dict(r) for r in org.store.read(
        "SELECT Id, Username, Name, Email, IsActive, TimeZoneSidKey FROM sf_user ORDER BY Id")]
    for user in users:
        user["IsActive"] = bool(user["IsActive"])
    return {"instance_url": org.base_url, "org_id": org.org_id, "api_user_id": org.api_user_id, "users": users,
            "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}


@router.get("/clock")
def get_clock(org: Org) -> dict:
    return _clock(org)


@router.post("/clock")
def set_clock(org: Org, body: JsonBody) -> dict:
    """`{"now": "<ISO-8601 with offset>"}` or `{"advance_seconds": n}`; the clock runs on from there."""
    spec = _object(body, "clock")
    if ("now" in spec) == ("advance_seconds" in spec):
        raise HTTPException(400, "clock: give exactly one of 'now' or 'advance_seconds'")
    if "now" in spec:
        try:
            moment = parse_datetime(str(spec["now"]), assume_utc=False)
        except ValueError as exc:
            raise HTTPException(400, f"clock: {exc}") from None
        org.set_clock(moment)
    else:
        if not isinstance(spec["advance_seconds"], int | float) or isinstance(spec["advance_seconds"], bool):
            raise HTTPException(400, "clock: advance_seconds must be a number")
        org.advance_clock(float(spec["advance_seconds"]))
    return _clock(org)


@router.get("/counters")
def counters(org: Org) -> dict:
    return org.accounting.counters()


@router.post("/counters/reset")
def reset_counters(org: Org) -> dict:
    org.accounting.reset()
    return org.accounting.counters()


@router.get("/limits")
def get_limits(org: Org) -> dict:
    return {"daily_api_requests": org.accounting.limit, "used": org.accounting.used(),
            "replication_ids": org.replication_id_limit}


def _count(spec: dict, key: str, minimum: int) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise HTTPException(400, f"limits: {key} must be an integer of at least {minimum}")
    return value


@router.post("/limits")
def set_limits(org: Org, body: JsonBody) -> dict:
    """`{"daily_api_requests": N}`: the allowance after which calls get 403 REQUEST_LIMIT_EXCEEDED;
    `{"replication_ids": N}`: the ids `updated/` and `deleted/` answer before EXCEEDED_ID_LIMIT
    (600,000 in Salesforce; lowered so a test needs a few dozen records, not 600,001)."""
    spec = _object(body, "limits")
    daily, replication = _count(spec, "daily_api_requests", 0), _count(spec, "replication_ids", 1)
    if daily is None and replication is None:
        raise HTTPException(400, "limits: give daily_api_requests and/or replication_ids")
    if daily is not None:
        org.accounting.set_limit(daily)
    if replication is not None:
        org.replication_id_limit = replication
    return get_limits(org)


@router.get("/faults")
def get_faults(org: Org) -> dict:
    return org.faults.describe()


@router.post("/faults")
def add_fault(org: Org, body: JsonBody) -> dict:
    """Arm a fault.

    `{"kind": "http_503"|"http_500"|"expired_session"|"delay"|"response_lost", "count": 1, "path": "/query",
    "method": "GET", "delay_ms": 0}` or `{"kind": "lock_rows", "ids": ["00T..."], "count": null}`.
    """
    spec = _object(body, "faults")
    try:
        if spec.get("kind") == "lock_rows":
            ids = spec.get("ids")
            if not isinstance(ids, list) or not ids:
                raise ValueError("lock_rows needs a non-empty 'ids' list")
            canonical = [org.records.canonical_id(TASK, str(i)) for i in ids]
            org.faults.lock_rows(canonical, spec.get("count"))
        else:
            org.faults.add_request_fault(
                str(spec.get("kind")), int(spec.get("count", 1)), spec.get("path"), spec.get("method"),
                int(spec.get("delay_ms", 0)),
            )
    except (ValueError, TypeError) as exc:
        raise HTTPException(400, f"faults: {exc}") from None
    return org.faults.describe()


@router.delete("/faults")
def clear_faults(org: Org) -> dict:
    org.faults.clear()
    return org.faults.describe()


@router.post("/reset")
def reset(org: Org, body: JsonBody) -> dict:
    """Back to a fresh org: `{"seed": "default"|"empty"|<seed document>}` (default "default").

    Sessions survive (the start-up session keeps working); data, clock,
    counters, faults, Bulk API jobs and the API allowance go back to their start values.
    """
    seed = _object(body, "reset").get("seed", "default")
    if not isinstance(seed, dict) and seed not in ("default", "empty"):
        raise HTTPException(400, "reset: seed must be 'default', 'empty' or a seed document")
    org.wipe()
    jobs_of(org).clear()
    bulk1_jobs_of(org).clear()
    seed_base(org, with_default_users=seed != "empty")
    created = _seed(org, seed) if isinstance(seed, dict) else {}
    return {"api_user_id": org.api_user_id, "seeded": created, **_clock(org)}


def _seed(org: Emulator, document: dict) -> dict:
    try:
        return apply_seed(org, document)
    except SeedError as exc:
        raise HTTPException(400, f"seed: {exc}") from None


@router.post("/seed")
def seed(org: Org, body: JsonBody) -> dict:
    """Add users and tasks (see `sf_emulator.seed` for the document); answers the ids created."""
    return _seed(org, _object(body, "seed"))


@router.post("/archive")
def archive(org: Org) -> dict:
    """Run the activity archiver now."""
    return {"archived": org.archive()}


@router.post("/empty-recycle-bin")
def empty_recycle_bin(org: Org, body: JsonBody) -> dict:
    """Hard-delete what the recycle bin holds (or what was deleted before `{"before": iso}`), as an
    administrator's "Empty Recycle Bin" does; `deleted/` then answers a later `earliestDateAvailable`."""
    before = _object(body, "empty-recycle-bin").get("before")
    try:
        cutoff = parse_datetime(str(before), assume_utc=False) if before is not None else None
    except ValueError as exc:
        raise HTTPException(400, f"empty-recycle-bin: {exc}") from None
    purged = org.empty_recycle_bin(cutoff)
    return {"purged": purged, "earliest_date_available": storage_to_wire(org.earliest_deleted_available())}


@router.post("/undelete")
def undelete(org: Org, body: JsonBody) -> dict:
    """Restore tasks from the recycle bin; ids that are not in it are not in the answer."""
    ids = _object(body, "undelete").get("ids")
    if not isinstance(ids, list) or not ids:
        raise HTTPException(400, "undelete: 'ids' must be a non-empty list")
    return {"undeleted": org.undelete([org.records.canonical_id(TASK, str(i)) for i in ids])}


@router.post("/sessions")
def new_session(org: Org, body: JsonBody) -> dict:
    """A session for `{"user_id": "005..."}` or `{"username": "..."}` (default: the integration user)."""
    spec = _object(body, "sessions")
    if "username" in spec:
        rows = org.store.read("SELECT Id FROM sf_user WHERE lower(Username) = lower(?)", (str(spec["username"]),))
    else:
        rows = org.store.read("SELECT Id FROM sf_user WHERE Id = ?", (str(spec.get("user_id", org.api_user_id)),))
    if not rows:
        raise HTTPException(404, "sessions: no such user")
    answer = {"session_id": org.sessions.issue(rows[0]["Id"]), "user_id": rows[0]["Id"]}
    if spec.get("refresh_token"):
        answer["refresh_token"] = org.sessions.issue_refresh_token(rows[0]["Id"])
    return answer


@router.delete("/sessions")
def revoke_sessions(org: Org, session_id: str | None = None) -> dict:
    """Invalidate `?session_id=` (or every session): the next API call with it gets 401 INVALID_SESSION_ID."""
    return {"revoked": org.sessions.revoke(session_id) if session_id else org.sessions.revoke_all()}


@router.get("/fields")
def get_fields(org: Org) -> dict:
    return org.custom_fields.describe()


@router.post("/fields")
def change_field(org: Org, body: JsonBody) -> dict:
    """Delete, hide or re-flag a custom field, as an admin does in Setup (see `sf_emulator.custom_fields`)."""
    spec = dict(_object(body, "fields"))
    object_name, field_name = spec.pop("object", "Task"), spec.pop("field", None)
    if not isinstance(object_name, str) or not isinstance(field_name, str) or not spec:
        raise HTTPException(400, "fields: give 'field' (and 'object', default Task) and at least one change")
    try:
        org.custom_fields.change(object_name, field_name, spec)
    except FieldChangeError as exc:
        raise HTTPException(400, f"fields: {exc}") from None
    return org.custom_fields.describe()


@router.delete("/fields")
def restore_fields(org: Org) -> dict:
    org.custom_fields.clear()
    return org.custom_fields.describe()


@router.get("/tasks")
def dump_tasks(org: Org, ids: str | None = None, limit: int | None = None) -> dict:
    """Every task row (deleted and archived included) in wire format, plus the emulator's bookkeeping:
    `LastWriteClient` (the `Sforce-Call-Options` client of the last write) and `DeletedDate`."""
    sql = "SELECT * FROM task"
    params: list[Any] = []
    if ids:
        wanted = [org.records.canonical_id(TASK, i.strip()) for i in ids.split(",") if i.strip()]
        sql += f" WHERE Id IN ({', '.join('?' * len(wanted))})"
        params.extend(wanted)
    sql += " ORDER BY rowid"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    records = []
    for row in org.store.read(sql, params):
        record = {spec.name: wire_value(spec, row[spec.name]) for spec in TASK.field_list}
        record["LastWriteClient"] = row["emu_last_client"]
        record["DeletedDate"] = storage_to_wire(row["emu_deleted_at"])
        records.append(record)
    return {"totalSize": len(records), "records": records, "now": to_wire(org.clock.now())}
