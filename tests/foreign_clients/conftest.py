"""Clients we did not write, run unchanged against the emulator over HTTPS.

Each client lives in its own environment so its dependencies never meet ours:
jsforce under `js/` (npm, pinned by `js/package-lock.json`) and aiosalesforce in
`.venv-foreign/` (pip, pinned by `aio/requirements.txt`); `make foreign-clients`
installs both and `make test` depends on it. A test hands a client a scenario
name and JSON input; the client's driver prints one JSON object with what it saw.
Only the base URL and the CA bundle point the clients at the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from foreign_harness import FOREIGN_PYTHON, HERE, INSTALL_HINT, JS_DIR, MY_DOMAIN, Driver, run_driver

from sf_emulator.process import EmulatorProcess


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(state=tmp_path_factory.mktemp("sf-emulator") / "org.sqlite3",
                         hostnames=(MY_DOMAIN,)) as emu:
        yield emu


@pytest.fixture
def emu(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The module's emulator, reset to the default org (a few users, no tasks)."""
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def jsforce(emu: EmulatorProcess) -> Driver:
    """`jsforce("scenario", **input)`: run a scenario of js/driver.js with jsforce, return its JSON."""
    if not (JS_DIR / "node_modules" / "jsforce").is_dir():
        pytest.fail(INSTALL_HINT)
    return lambda scenario, timeout=60, **payload: run_driver(
        ["node", str(JS_DIR / "driver.js")], emu, scenario,
                                                         payload, timeout)


@pytest.fixture
def aiosalesforce(emu: EmulatorProcess) -> Driver:
    """`aiosalesforce("scenario", **input)`: run a scenario of aio/driver.py with aiosalesforce."""
    if not FOREIGN_PYTHON.exists():
        pytest.fail(INSTALL_HINT)
    return lambda scenario, timeout=60, **payload: run_driver([str(FOREIGN_PYTHON), str(HERE / "aio" / "driver.py")],
                                                         emu, scenario, payload, timeout)
