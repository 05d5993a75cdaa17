"""The stack's ports come from below the ephemeral range, where no outgoing connection can take them."""

from __future__ import annotations

import socket

from airflow_stack import ports


def test_ports_are_below_the_ephemeral_range_distinct_and_free() -> None:
    floor = ports._ephemeral_floor()
    picked = [ports.free_port() for _ in range(50)]
    assert len(set(picked)) == len(picked)
    assert all(20000 <= port < floor for port in picked)
    for port in picked[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # still free: raises if a server had it


def test_a_port_somebody_listens_on_is_never_picked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    taken, spare = ports.free_port(), ports.free_port()
    monkeypatch.setattr(ports, "_handed_out", set())
    candidates = iter([taken, spare])
    monkeypatch.setattr(ports.random, "randrange", lambda low, high: next(candidates))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        assert ports.free_port() == spare
