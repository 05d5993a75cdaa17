"""`GET /services/data/` (versions, no session needed) and the per-version resource map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from sf_emulator.api import SUPPORTED_VERSIONS, ApiCall, add_route, api_call

router = APIRouter()
ResourcesCall = Annotated[ApiCall, Depends(api_call("resources"))]


def _label(version: str) -> str:
    """Release name of an API version: 31.0 was Summer '14, three releases a year since."""
    index = int(float(version)) - 31
    season = ("Summer", "Winter", "Spring")[index % 3]
    return f"{season} '{14 + (index + 2) // 3}"


def versions() -> list[dict]:
    return [{"label": _label(v), "url": f"/services/data/v{v}", "version": v} for v in SUPPORTED_VERSIONS]


def resources(call: ResourcesCall) -> dict:
    base = f"/services/data/v{call.version}"
    names = ("sobjects", "query", "queryAll", "search", "limits", "composite", "jobs")
    return {name: f"{base}/{name}" for name in names}


add_route(router, "/services/data", versions, ["GET"])
add_route(router, "/services/data/v{version}", resources, ["GET"])
