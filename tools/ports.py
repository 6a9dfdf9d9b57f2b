"""Free loopback ports for a throwaway all-in-one (``nubis all-in-one --port-offset``)."""

from __future__ import annotations

import random
import socket

EPHEMERAL_START = 32768
# Single ports start above the guests' serial console range (``[serial_console] port_range``, 10000:20000).
SINGLE_PORTS_START = 20000


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_issued: set[int] = set()


def free_port() -> int:
    """One free 127.0.0.1 port below Linux's ephemeral range, not handed out before by this process.

    Binding to port 0 would give an ephemeral port, which an outgoing connection (to the
    database, the broker) can take between this check and the server's own bind; that
    collision made a CI run fail. Raises RuntimeError when 500 random ports were all taken.
    """
    for _ in range(500):
        port = random.randrange(SINGLE_PORTS_START, EPHEMERAL_START)
        if port not in _issued and _free(port):
            _issued.add(port)
            return port
    raise RuntimeError("no free port found below the ephemeral range")


def free_offset(default_ports: list[int]) -> int:
    """An offset at which every one of ``default_ports`` is free on 127.0.0.1.

    Every port stays below Linux's ephemeral range (32768 and up), where an outgoing connection
    could take it between this check and the service's bind. Raises RuntimeError when 200
    random offsets were all partly taken.
    """
    for _ in range(200):
        offset = random.randrange(10000, EPHEMERAL_START - max(default_ports), 7)
        if all(_free(p + offset) for p in default_ports):
            return offset
    raise RuntimeError("no free port offset found")


def free_service_offset() -> int:
    """A free offset for every API port of the services this install has (see ``free_offset``)."""
    from nubis import services  # here, so the checks that run outside an install can use free_offset

    return free_offset([s.port for s in map(services.load, services.available()) if s.port])
