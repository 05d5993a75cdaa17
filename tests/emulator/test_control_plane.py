"""Control-plane rules that the HTTPS suite cannot provoke over 127.0.0.1."""

from __future__ import annotations

import asyncio

import httpx

from sf_emulator.app import create_app
from sf_emulator.org import Emulator
from sf_emulator.seed import seed_base


def _get(org: Emulator, client_host: str, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(org), client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            return await http.get(path)

    return asyncio.run(call())


def test_control_plane_refuses_non_loopback_callers() -> None:
    org = Emulator(":memory:")
    seed_base(org, with_default_users=True)
    try:
        remote = _get(org, "203.0.113.7", "/_emulator/clock")
        assert remote.status_code == 403
        assert "loopback" in remote.json()["detail"]
        assert _get(org, "127.0.0.1", "/_emulator/clock").status_code == 200
    finally:
        org.close()
