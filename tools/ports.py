"""Free loopback ports for a throwaway all-in-one (``nubis all-in-one --port-offset``)."""

from __future__ import annotations

import random
import socket

EPHEMERAL_START = 32768


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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
