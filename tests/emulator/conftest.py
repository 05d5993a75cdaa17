"""One emulator process per test session, reset to a fresh default org before every test.

Everything goes through the real clients over HTTPS: simple-salesforce with a
requests session that trusts the emulator's CA, and plain requests where a
test must see exact status codes, headers and bodies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from sf_emulator.process import EmulatorProcess

API_VERSION = "59.0"


@pytest.fixture(scope="session")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    state = tmp_path_factory.mktemp("sf-emulator") / "org.sqlite3"
    with EmulatorProcess(state=state) as emu:
        yield emu


@pytest.fixture
def emu(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator, reset to the default org (a few users, no tasks, real time, no faults)."""
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def sf(emu: EmulatorProcess) -> Salesforce:
    """simple-salesforce in direct mode (instance_url + session id), trusting the emulator's CA."""
    return Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())


class RawApi:
    """Plain HTTPS calls with the session's bearer token, for asserting exact wire behaviour."""

    def __init__(self, emu: EmulatorProcess, session_id: str | None = None) -> None:
        self.emu = emu
        self.http = emu.requests_session()
        self.http.headers["Authorization"] = f"Bearer {session_id or emu.session_id}"
        self.base = f"{emu.instance_url}/services/data/v{API_VERSION}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.base}/{path.lstrip('/')}"
        return self.http.request(method, url, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def raw(emu: EmulatorProcess) -> RawApi:
    return RawApi(emu)


@pytest.fixture
def users(emu: EmulatorProcess) -> dict[str, dict]:
    """The default org's users keyed by first name (Integration, Ava, Ben, Chloe, Dan[inactive])."""
    return {u["Name"].split()[0]: u for u in emu.info()["users"]}


@pytest.fixture
def raw_as(emu: EmulatorProcess) -> Any:
    """`raw_as(session_id)`: a RawApi calling with another session."""
    return lambda session_id: RawApi(emu, session_id)
