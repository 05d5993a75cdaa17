"""`GET /limits`: the org's allowances, DailyApiRequests reflecting the emulator's accounting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from sf_emulator.api import ApiCall, add_route, api_call

router = APIRouter(prefix="/services/data/v{version}")
LimitsCall = Annotated[ApiCall, Depends(api_call("limits"))]

# Allowances the emulator does not enforce, reported with Salesforce's usual defaults.
_STATIC_LIMITS = {
    "DailyBulkApiBatches": 15000,
    "DailyBulkV2QueryFileStorageMB": 976562,
    "DailyBulkV2QueryJobs": 10000,
    "DataStorageMB": 1024,
    "FileStorageMB": 1024,
    "HourlyTimeBasedWorkflow": 1000,
}


def limits(call: LimitsCall) -> dict:
    accounting = call.emulator.accounting
    used, maximum = accounting.used(), accounting.limit
    out = {"DailyApiRequests": {"Max": maximum, "Remaining": max(0, maximum - used)}}
    out.update({name: {"Max": value, "Remaining": value} for name, value in _STATIC_LIMITS.items()})
    return out


add_route(router, "/limits", limits, ["GET"])
