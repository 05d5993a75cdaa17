"""`python -m sf_emulator`: run the emulator in the foreground.

The first line on stdout is one JSON object telling a client how to connect:
`{"instance_url", "session_id", "ca_bundle", "control_url", ...}`. Everything
else (logs) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType

import uvicorn

from sf_emulator.app import create_app
from sf_emulator.header_case import CanonicalHeaderCase
from sf_emulator.org import Emulator
from sf_emulator.seed import SeedError, apply_seed, load_seed_argument, seed_base
from sf_emulator.tls import ensure_tls_files


def _default_state() -> str:
    return str(Path(os.environ.get("SALES_CONNECT_VAR", "var")) / "sf-emulator" / "org.sqlite3")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sf_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8443, help="port to listen on; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 only inside a container network)")
    parser.add_argument("--hostname", action="append", default=[],
                        help="extra DNS name or IP the TLS certificate must cover (repeatable), e.g. sf-emulator")
    parser.add_argument("--state", default=_default_state(),
                        help="SQLite file holding the org (kept across restarts), or :memory:")
    parser.add_argument("--seed", default="default",
                        help="default (a few users), empty (only the integration user) or FILE.json; "
                             "applied only when the state holds no org yet")
    parser.add_argument("--api-limit", type=int, default=None, help="daily API request allowance (default 15000)")
    parser.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    return parser.parse_args(argv)


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the connection line once it is accepting connections."""

    def __init__(self, config: uvicorn.Config, announcement: dict) -> None:
        super().__init__(config)
        self._announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        print(json.dumps(self._announcement), flush=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    in_memory = args.state == ":memory:"
    # Certificates go to <state>.tls/ (shareable with clients), private keys to <state>.tls-keys/.
    if in_memory:
        scratch = Path(tempfile.mkdtemp(prefix="sf-emulator-tls-"))
        tls_dir, key_dir = scratch / "tls", scratch / "keys"
    else:
        state = Path(args.state).resolve()
        state.parent.mkdir(parents=True, exist_ok=True)
        tls_dir, key_dir = state.parent / f"{state.name}.tls", state.parent / f"{state.name}.tls-keys"
    try:
        tls = ensure_tls_files(tls_dir, key_dir, args.hostname)
        org = Emulator(args.state if in_memory else str(Path(args.state).resolve()), api_limit=args.api_limit)
        if org.api_user_id is None:
            try:
                document = load_seed_argument(args.seed)
                seed_base(org, with_default_users=args.seed != "empty")
                apply_seed(org, document)
            except SeedError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        elif args.seed != "default":
            print(f"note: --seed {args.seed} ignored, {args.state} already holds an org", file=sys.stderr)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((args.host, args.port))
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 2
        port = sock.getsockname()[1]
        org.base_url = f"https://127.0.0.1:{port}"
        announcement = {
            "instance_url": org.base_url,
            "session_id": org.sessions.issue(org.api_user_id or ""),
            "ca_bundle": str(tls.ca_cert),
            "control_url": f"{org.base_url}/_emulator",
            "state": args.state if in_memory else str(Path(args.state).resolve()),
            "org_id": org.org_id,
            "user_id": org.api_user_id,
            "pid": os.getpid(),
        }
        # Idle keep-alive TLS connections from clients hold a graceful shutdown open;
        # one second is plenty for an in-flight emulator request to finish.
        # h11, not httptools: only h11 sends header names in the case the app gives them (see header_case).
        config = uvicorn.Config(CanonicalHeaderCase(create_app(org)), ssl_certfile=str(tls.server_cert),
                                ssl_keyfile=str(tls.server_key), http="h11", log_level=args.log_level,
                                lifespan="off", timeout_graceful_shutdown=1, server_header=False,
                                date_header=False)  # the app stamps Date from the emulator's own clock
        # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal; ending
        # with SystemExit(0) instead lets the state be closed and temporary files removed.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _exit_cleanly)
        try:
            _AnnouncingServer(config, announcement).run(sockets=[sock])
        finally:
            org.close()
        return 0
    finally:
        if in_memory:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
