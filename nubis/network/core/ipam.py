"""Address management: pools, allocation that never hands out one address twice, release, history.

The database decides who wins: an address is the primary key of its
``ip_allocations`` row, so two API workers that pick the same free address
both try to insert it and one fails. The loser's insert runs in a savepoint,
so it simply tries another address inside the same transaction. Workers pick
a random free address rather than the lowest, so under concurrency they
rarely collide in the first place.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.common.db import types
from nubis.network.core import errors
from nubis.network.db import models

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Pools larger than this that are less than half used are probed at random
# instead of reading every allocation of the subnet.
_SMALL_POOL = 1024
_ATTEMPTS = 16

SLAAC_MODES = ("slaac", "dhcpv6-stateless")


def network_of(cidr: str) -> IPNetwork:
    """``cidr`` (a string such as "10.0.0.0/24") as a network; 400 for anything else. The standard library
    would also take an integer (42 -> 0.0.0.42/32), bytes or a tuple, which no API field means."""
    try:
        if not isinstance(cidr, str):
            raise ValueError(cidr)
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise errors.invalid(f"'{cidr}' is not a valid IP subnet.") from None


def address(value: Any, what: str = "IP address") -> IPAddress:
    """``value`` (a string) as an address; 400 for anything else, integers included (see ``network_of``)."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return ipaddress.ip_address(value)
    except ValueError:
        raise errors.invalid(f"'{value}' is not a valid {what}.") from None


def default_pools(net: IPNetwork, gateway: IPAddress | None) -> list[tuple[IPAddress, IPAddress]]:
    """Every usable address except the gateway (and, for IPv4, network and broadcast)."""
    first, last = net.network_address, net.broadcast_address
    if net.version == 4 and net.prefixlen < 31:
        first, last = first + 1, last - 1
    elif net.version == 6 and net.prefixlen < 127:
        first = first + 1  # the subnet-router anycast address
    # Compared as integers: a union of the two address types does not order, though any two
    # addresses here are of one version (for which the integers order as the addresses do).
    if int(first) > int(last):
        return []
    pools: list[tuple[IPAddress, IPAddress]] = [(first, last)]
    if gateway is not None and int(first) <= int(gateway) <= int(last):
        pools = [(a, b) for a, b in ((first, gateway - 1), (gateway + 1, last)) if int(a) <= int(b)]
    return pools


def parse_pools(net: IPNetwork, gateway: IPAddress | None, given: list[Any]) -> list[tuple[IPAddress, IPAddress]]:
    """Validated ``allocation_pools``: inside the subnet, not overlapping, gateway outside them."""
    pools: list[tuple[IPAddress, IPAddress]] = []
    for pool in given:
        if not isinstance(pool, dict) or "start" not in pool or "end" not in pool:
            raise errors.invalid(f"allocation pool {pool!r} needs 'start' and 'end'.")
        start, end = address(pool["start"]), address(pool["end"])
        if start.version != net.version or end.version != net.version or start not in net or end not in net:
            raise errors.bad_request("OutOfBoundsAllocationPool",
                                     f"The allocation pool {start}-{end} spans beyond the subnet cidr {net}.")
        if int(start) > int(end):
            raise errors.bad_request("InvalidAllocationPool", f"The allocation pool {start}-{end} is not valid: "
                                                              "its start is after its end.")
        pools.append((start, end))
    pools.sort()
    for (a1, b1), (a2, b2) in zip(pools, pools[1:], strict=False):
        if int(a2) <= int(b1):
            raise errors.conflict("OverlappingAllocationPools",
                                  f"Found overlapping allocation pools: {a1}-{b1} and {a2}-{b2} for subnet {net}.")
    if gateway is not None:
        for a, b in pools:
            if int(a) <= int(gateway) <= int(b):
                raise errors.conflict("GatewayConflictWithAllocationPools",
                                      f"Gateway ip {gateway} conflicts with allocation pool {a}-{b}.")
    return pools


def pools_of(subnet: models.Subnet) -> list[tuple[IPAddress, IPAddress]]:
    return [(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"])) for p in subnet.allocation_pools]


def pool_size(pools: Iterable[tuple[IPAddress, IPAddress]]) -> int:
    return sum(int(b) - int(a) + 1 for a, b in pools)


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address a guest with ``mac`` configures in a /64."""
    net = network_of(cidr)
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    iid = bytes(octets[:3] + [0xFF, 0xFE] + octets[3:])
    return str(ipaddress.ip_address(int(net.network_address) | int.from_bytes(iid, "big")))


def in_pools(pools: list[tuple[IPAddress, IPAddress]], ip: IPAddress) -> bool:
    return any(int(a) <= int(ip) <= int(b) for a, b in pools)


def _nth(pools: list[tuple[IPAddress, IPAddress]], n: int) -> str:
    for a, b in pools:
        span = int(b) - int(a) + 1
        if n < span:
            return str(ipaddress.ip_address(int(a) + n))
        n -= span
    raise IndexError(n)


def _random_probes(pools: list[tuple[IPAddress, IPAddress]], count: int) -> Iterator[str]:
    """Random addresses of a mostly free pool: the insert itself tells whether one was free."""
    size = pool_size(pools)
    seen: set[str] = set()
    while len(seen) < count:
        ip = _nth(pools, random.randrange(size))
        if ip not in seen:
            seen.add(ip)
            yield ip


def _free_in_random_order(pools: list[tuple[IPAddress, IPAddress]], taken: set[str]) -> list[str]:
    free = [ip for a, b in pools for n in range(int(a), int(b) + 1)
            if (ip := str(ipaddress.ip_address(n))) not in taken]
    random.shuffle(free)
    return free


def _used(session: orm.Session, subnet_id: str) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(models.IPAllocation)
                          .where(models.IPAllocation.subnet_id == subnet_id)) or 0


def _taken(session: orm.Session, subnet_id: str) -> set[str]:
    return set(session.scalars(sa.select(models.IPAllocation.ip_address)
                               .where(models.IPAllocation.subnet_id == subnet_id)))


def _insert(session: orm.Session, subnet: models.Subnet, port: models.Port, ip: str) -> bool:
    """Claim ``ip`` for ``port``; False when another transaction already holds it."""
    try:
        with session.begin_nested():
            session.add(models.IPAllocation(subnet_id=subnet.id, ip_address=ip, network_id=subnet.network_id,
                                            port_id=port.id))
            session.flush()
    except sa_exc.IntegrityError:
        return False
    session.add(models.IPAllocationHistory(
        network_id=subnet.network_id, subnet_id=subnet.id, ip_address=ip, port_id=port.id,
        project_id=port.project_id, device_id=port.device_id, device_owner=port.device_owner,
        mac_address=port.mac_address))
    return True


def allocate(session: orm.Session, subnet: models.Subnet, port: models.Port, requested: str | None = None,
             ignore_pools: bool = False) -> str:
    """Give ``port`` an address on ``subnet``: ``requested``, or any free one from the pools."""
    net = network_of(subnet.cidr)
    if requested is not None:
        ip = address(requested)
        reserved = (net.network_address, net.broadcast_address) if net.version == 4 and net.prefixlen < 31 else ()
        if ip not in net or ip in reserved:
            raise errors.bad_request("InvalidIpForSubnet", f"IP address {ip} is not a valid IP for the "
                                                           f"specified subnet {subnet.id} ({subnet.cidr}).")
        if not _insert(session, subnet, port, str(ip)):
            raise errors.conflict("IpAddressAlreadyAllocated", f"IP address {ip} already allocated in subnet "
                                                              f"{subnet.id}.")
        return str(ip)
    if subnet.ip_version == 6 and subnet.ipv6_address_mode in SLAAC_MODES:
        slaac = eui64(subnet.cidr, port.mac_address)
        if not _insert(session, subnet, port, slaac):
            raise errors.conflict("IpAddressAlreadyAllocated", f"IP address {slaac} already allocated in subnet "
                                                              f"{subnet.id}.")
        return slaac
    pools = pools_of(subnet) if not ignore_pools else default_pools(net, None)
    size = pool_size(pools)
    used = _used(session, subnet.id)
    if size > _SMALL_POOL and used * 2 < size:
        # Mostly free: a random address is almost surely free, so skip reading every allocation.
        for probe in _random_probes(pools, _ATTEMPTS):
            if _insert(session, subnet, port, probe):
                return probe
    for attempt, free in enumerate(_free_in_random_order(pools, _taken(session, subnet.id))):
        if _insert(session, subnet, port, free):
            return free
        if attempt >= _ATTEMPTS:
            break  # losing this often means the pool is being emptied right now
    raise errors.conflict("IpAddressGenerationFailure",
                          f"No more IP addresses available on network {subnet.network_id} (subnet {subnet.id}, "
                          f"{subnet.cidr}): release some ports or add a subnet.")


def release(session: orm.Session, port_id: str, keep: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Free the port's addresses except ``keep`` ((subnet_id, ip) pairs); returns what was freed."""
    keep = set(keep)
    rows = session.scalars(sa.select(models.IPAllocation).where(models.IPAllocation.port_id == port_id)).all()
    freed = [(r.subnet_id, r.ip_address) for r in rows if (r.subnet_id, r.ip_address) not in keep]
    now = types.utcnow()
    for subnet_id, ip in freed:
        session.execute(sa.delete(models.IPAllocation).where(models.IPAllocation.subnet_id == subnet_id,
                                                             models.IPAllocation.ip_address == ip))
        session.execute(sa.update(models.IPAllocationHistory)
                        .where(models.IPAllocationHistory.port_id == port_id,
                               models.IPAllocationHistory.subnet_id == subnet_id,
                               models.IPAllocationHistory.ip_address == ip,
                               models.IPAllocationHistory.released_at.is_(None))
                        .values(released_at=now))
    return freed


def used_counts(session: orm.Session, subnet_ids: Iterable[str]) -> dict[str, int]:
    ids = list(subnet_ids)
    if not ids:
        return {}
    q = (sa.select(models.IPAllocation.subnet_id, sa.func.count())
         .where(models.IPAllocation.subnet_id.in_(ids)).group_by(models.IPAllocation.subnet_id))
    return {sid: n for sid, n in session.execute(q)}
