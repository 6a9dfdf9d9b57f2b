"""Provider segments: which network types exist, and handing out VXLAN ids and VLANs without repeats."""

from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.network.core import errors
from nubis.network.core.common import as_int
from nubis.network.db import models

TYPES = ("flat", "vxlan", "vlan")
VXLAN_OVERHEAD = 50  # bytes of outer Ethernet/IP/UDP/VXLAN headers

# Flat networks are stored with segment id 0: NULL never collides in a unique
# constraint, and one flat network per physical network is the rule.
FLAT_SEGMENT = 0


def vni_range(conf: cfg.ConfigOpts) -> tuple[int, int]:
    low, _, high = conf.network.vni_ranges.partition(":")
    return int(low), int(high or low)


def vlan_ranges(conf: cfg.ConfigOpts) -> dict[str, tuple[int, int] | None]:
    out: dict[str, tuple[int, int] | None] = {}
    for item in conf.network.network_vlan_ranges:
        parts = item.split(":")
        out[parts[0]] = (int(parts[1]), int(parts[2])) if len(parts) == 3 else None
    return out


def mtu_for(conf: cfg.ConfigOpts, network_type: str) -> int:
    base = conf.network.global_physnet_mtu
    return base - VXLAN_OVERHEAD if network_type == "vxlan" else base


def requested(conf: cfg.ConfigOpts, attrs: dict[str, Any]) -> tuple[str, str, int | None]:
    """(type, physnet, id) from the provider attributes, validated; id None means 'pick one'."""
    ntype = attrs.get("provider:network_type") or conf.network.tenant_network_types[0]
    physnet = attrs.get("provider:physical_network") or ""
    seg = attrs.get("provider:segmentation_id")
    if ntype not in TYPES:
        raise errors.invalid(f"network type {ntype!r} is not supported; use one of {', '.join(TYPES)}.")
    if ntype == "vxlan":
        if physnet:
            raise errors.invalid("provider:physical_network is not allowed for vxlan networks.")
        return ntype, "", None if seg is None else as_int(seg, "provider:segmentation_id", 1, 2 ** 24 - 1)
    if ntype == "flat":
        if seg is not None:
            raise errors.invalid("provider:segmentation_id is not allowed for flat networks.")
        allowed = conf.network.flat_networks
        if not physnet:
            raise errors.invalid("provider:physical_network is required for flat networks.")
        if "*" not in allowed and physnet not in allowed:
            raise errors.invalid(f"physical network {physnet!r} is not configured for flat networks "
                                 f"(flat_networks: {', '.join(allowed) or 'none'}).")
        return ntype, physnet, FLAT_SEGMENT
    ranges = vlan_ranges(conf)
    if not physnet:
        with_range = [p for p, r in ranges.items() if r is not None]
        if not with_range:
            raise errors.invalid("provider:physical_network is required: no tenant VLAN ranges are configured.")
        physnet = with_range[0]
    if physnet not in ranges:
        raise errors.invalid(f"physical network {physnet!r} is not configured for vlan networks.")
    return ntype, physnet, None if seg is None else as_int(seg, "provider:segmentation_id", 1, 4094)


def _pool(conf: cfg.ConfigOpts, ntype: str, physnet: str) -> tuple[int, int]:
    if ntype == "vxlan":
        return vni_range(conf)
    bounds = vlan_ranges(conf).get(physnet)
    if bounds is None:
        raise errors.conflict("NoNetworkAvailable", f"No tenant VLAN range is configured on {physnet}; "
                                                    "give provider:segmentation_id.")
    return bounds


def claim(s: orm.Session, conf: cfg.ConfigOpts, network: models.Network, seg: int | None) -> None:
    """Set the network's segment: ``seg``, or a free one from the configured range (inserting ``network``)."""
    def insert(value: int) -> bool:
        network.segmentation_id = value
        try:
            with s.begin_nested():
                s.add(network)
                s.flush()
        except sa_exc.IntegrityError:
            return False  # the savepoint's rollback took the pending network out of the session again
        return True

    if seg is not None:
        if not insert(seg):
            what = f"physical network {network.physical_network}" if network.network_type == "flat" else \
                f"{network.network_type} segment {seg}"
            raise errors.conflict("SegmentationIdInUse" if network.network_type != "flat" else "FlatNetworkInUse",
                                  f"Unable to create the network: {what} is in use.")
        return
    low, high = _pool(conf, network.network_type, network.physical_network)
    used = set(s.scalars(sa.select(models.Network.segmentation_id).where(
        models.Network.network_type == network.network_type,
        models.Network.physical_network == network.physical_network)))
    free = [n for n in range(low, min(high, low + 4096) + 1) if n not in used]
    if high - low > 4096 and not free:
        free = [random.randint(low, high) for _ in range(64)]
    random.shuffle(free)
    for value in free[:64]:
        if insert(value):
            return
    raise errors.conflict("NoNetworkAvailable", f"Unable to create the network: no free {network.network_type} "
                                                "segment is left; an admin can widen the range.")
