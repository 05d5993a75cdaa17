"""Ports for the stack's servers, picked outside the kernel's ephemeral range.

A port the kernel hands out for ``bind(0)`` comes from the ephemeral range, the same range it
draws the source port of every outgoing connection from. Between our probe closing that port and
the server (uvicorn, the scheduler's health check, a worker's log server) binding it, any outgoing
connection on the machine may take it, and the server dies with "address already in use" (CI saw
this once in ~1,000 starts). Ports below the ephemeral range are never handed out implicitly, so
only another explicit ``bind`` can race us there, and the random pick plus a bind check makes that
as good as impossible.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 20000  # above the well-known and the commonly configured service ports
_ATTEMPTS = 200
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    """The lowest ephemeral port (Linux's default is 32768; elsewhere assume the IANA 49152)."""
    try:
        return int(_EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def _bindable(port: int, host: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now, not handed out before by this process, outside the ephemeral range."""
    ceiling = _ephemeral_floor()
    if ceiling - _LOWEST < 1000:  # an unusual range leaves no room below it: fall back to the kernel's pick
        with socket.socket() as sock:
            sock.bind((host, 0))
            return sock.getsockname()[1]
    for _ in range(_ATTEMPTS):
        port = random.randrange(_LOWEST, ceiling)
        if port not in _handed_out and _bindable(port, host):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port found between {_LOWEST} and {ceiling} after {_ATTEMPTS} tries")
