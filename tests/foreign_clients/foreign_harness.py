"""Running a foreign client's driver: its environment, its scenario input, its JSON answer."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sf_emulator.process import EmulatorProcess

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
JS_DIR = HERE / "js"
FOREIGN_PYTHON = REPO / ".venv-foreign" / "bin" / "python"
INSTALL_HINT = "the foreign clients are not installed: run `make foreign-clients` (make test does)"

Driver = Callable[..., dict]
#: The My Domain name the emulator's certificate also covers, for clients that accept only
#: `https://<domain>.my.salesforce.com` (aiosalesforce); their HTTP client resolves it to the emulator.
MY_DOMAIN = "emulator.my.salesforce.com"

def run_driver(command: list[str], emu: EmulatorProcess, scenario: str, payload: dict, timeout: float) -> dict:
    info = emu.info()
    integration = next(u for u in info["users"] if u["Id"] == info["api_user_id"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REQUESTS_", "SSL_CERT", "NODE_"))},
        "EMU_INSTANCE_URL": emu.instance_url,
        "EMU_SESSION_ID": emu.session_id,
        "EMU_CA_BUNDLE": emu.ca_bundle,
        "EMU_MY_DOMAIN": MY_DOMAIN,
        "EMU_USERNAME": integration["Username"],
        "EMU_PASSWORD": "emulator-password",
        "EMU_SECURITY_TOKEN": "EMULATORTOKEN",
        "EMU_CLIENT_ID": info["consumer_key"],
        "EMU_CLIENT_SECRET": info["consumer_secret"],
        # Node's way of trusting one more CA; the client code itself is unchanged.
        "NODE_EXTRA_CA_CERTS": emu.ca_bundle,
    }
    done = subprocess.run([*command, scenario], input=json.dumps(payload), capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{scenario} failed ({done.returncode}):\n{done.stderr[-4000:]}\n{done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])



def seed_tasks(emu: EmulatorProcess, count: int, **options: Any) -> int:
    """`count` generated tasks owned by the integration user."""
    return emu.generate_tasks(count, owner_ids=[emu.user_id], **options)
