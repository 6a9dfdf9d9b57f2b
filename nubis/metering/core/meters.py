"""What a metered resource in a given state uses, per second, of each meter.

Meters (their unit-hour in brackets):

- ``instance`` [server-hour, per flavor]: from launch to deletion, whatever the state, as
  ``os-simple-tenant-usage`` counts ``total_hours``;
- ``instance.running`` [server-hour, per flavor]: only while the guest runs (``active``, ``resized``);
- ``vcpu`` [vCPU-hour], ``ram_gb`` [GiB-hour], ``disk_gb`` [GB-hour of root disk]: the flavor's
  sizes over the same time as ``instance`` (``total_vcpus_usage``, ``total_memory_mb_usage`` / 1024,
  ``total_local_gb_usage`` of ``os-simple-tenant-usage``);
- ``image`` [GiB-hour]: an active image's stored bytes;
- ``floating_ip`` [hour]: an allocated floating IP;
- ``router_gateway`` [hour]: a router while it has an external gateway (state ``gateway``);
- ``volume`` [GiB-hour]: a volume's size while its storage exists (state ``stored``: from the volume's
  ``volume.create.end`` to its ``volume.delete.end``, following ``volume.resize.end``);
- ``snapshot`` [GiB-hour]: a volume snapshot's size (its volume's size when taken) while it is stored;
- ``outbound_gb`` [GB, 10^9 bytes; not over time]: what a guest port sent, from the network agents'
  ``network.outgoing.bytes`` counters (``COUNTERS``: its quantity is bytes, not unit-seconds).

Quantities are integers in unit-seconds (memory in MiB-seconds, image data in byte-seconds); ``DIVISORS``
turns them into unit-hours exactly.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

INSTANCE, IMAGE, FLOATING_IP, ROUTER = "instance", "image", "floating_ip", "router"
VOLUME, SNAPSHOT, PORT = "volume", "snapshot", "port"
RESOURCE_TYPES = (INSTANCE, IMAGE, FLOATING_IP, ROUTER, VOLUME, SNAPSHOT, PORT)
# The state of a volume or snapshot whose storage exists (sizes in ``disk_gb``, GiB).
STORED = "stored"

# unit-seconds per unit-hour of each meter
DIVISORS: dict[str, int] = {
    "instance": 3600,
    "instance.running": 3600,
    "vcpu": 3600,
    "ram_gb": 1024 * 3600,
    "disk_gb": 3600,
    "image": 2**30 * 3600,
    "floating_ip": 3600,
    "router_gateway": 3600,
    "volume": 3600,
    "snapshot": 3600,
    "outbound_gb": 10**9,  # bytes per GB: a counter, not a rate
}
# Meters recorded from counters (bytes in the hour a sample arrives), priced per unit, not per unit-hour.
COUNTERS = frozenset({"outbound_gb"})
METERS = tuple(DIVISORS)
# Server states in which the guest runs (``resized``: waiting for the resize to be confirmed).
RUNNING = frozenset({"active", "resized"})
# Meters whose usage (and tariffs) are kept per flavor.
PER_FLAVOR = frozenset({"instance", "instance.running"})


@dataclasses.dataclass(frozen=True)
class State:
    """What the ledger knows of a resource: who owns it, its state, and its sizes."""

    resource_type: str
    project_id: str
    state: str
    flavor: str = ""
    vcpus: int = 0
    memory_mb: int = 0
    disk_gb: int = 0
    size_bytes: int = 0


def rates(state: State) -> list[tuple[str, str, int]]:
    """``(meter, flavor, unit-seconds per second)`` for a resource in ``state``; flavor is ``""`` for meters
    not kept per flavor."""
    if state.resource_type == INSTANCE:
        if state.state == "deleted":
            return []
        out = [("instance", state.flavor, 1), ("vcpu", "", state.vcpus), ("ram_gb", "", state.memory_mb),
               ("disk_gb", "", state.disk_gb)]
        if state.state in RUNNING:
            out.append(("instance.running", state.flavor, 1))
        return out
    if state.resource_type == IMAGE:
        return [("image", "", state.size_bytes)] if state.state == "active" and state.size_bytes else []
    if state.resource_type == FLOATING_IP:
        return [("floating_ip", "", 1)]
    if state.resource_type == ROUTER:
        return [("router_gateway", "", 1)] if state.state == "gateway" else []
    if state.resource_type in (VOLUME, SNAPSHOT):
        return [(state.resource_type, "", state.disk_gb)] if state.state == STORED else []
    return []


def unit_hours(meter: str, quantity: int) -> Decimal:
    """``quantity`` unit-seconds of ``meter`` in unit-hours (exact as a fraction, to 28 digits)."""
    return Decimal(quantity) / Decimal(DIVISORS[meter])
