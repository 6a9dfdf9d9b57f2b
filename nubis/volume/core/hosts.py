"""Choosing a storage host for a new volume: a live manager in the zone with room under its over-subscription
ratio. The chosen host's row is locked, so two creates cannot both take the last room."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common.db import types
from nubis.volume.db.models import Snapshot, Volume, VolumeService


class NoValidBackend(Exception):
    """No live host in the zone can hold the volume; the message names what was missing."""


def allocated_gb(s: Any, host: str) -> int:
    """GiB of volumes and snapshots kept on ``host``."""
    vols = s.scalar(sa.select(sa.func.coalesce(sa.func.sum(Volume.size), 0)).where(Volume.host == host))
    snaps = s.scalar(sa.select(sa.func.coalesce(sa.func.sum(Snapshot.size), 0)).where(Snapshot.host == host))
    return int(vols or 0) + int(snaps or 0)


# What each backend offers, as Cinder's drivers report it (get-pools, capabilities). The file backend's volumes
# reach computes over NBD.
BACKEND_CAPABILITIES = {"file": {"vendor_name": "Open Source", "storage_protocol": "NBD", "driver_version": "1.0"}}


def capabilities(service: VolumeService) -> dict[str, Any]:
    """The host's backend name and what it reports (vendor, protocol, driver version)."""
    known = BACKEND_CAPABILITIES.get(service.backend, {"vendor_name": "Nubis", "storage_protocol": service.backend,
                                                       "driver_version": "1.0"})
    return {"volume_backend_name": service.backend, **known}


def _matches(capability: str, wanted: str) -> bool:
    """One extra spec against one capability, with Cinder's operators: ``<is> True``, ``<in> sub``,
    ``<or> a <or> b``, ``s== text``, ``== n``/``>= n``/``<= n``/``!= n``; otherwise the exact value."""
    words = wanted.split()
    if not words:
        return capability == wanted
    op, rest = words[0], " ".join(words[1:])
    if op == "<is>":
        return capability.strip().lower() == rest.strip().lower()
    if op == "<in>":
        return rest in capability
    if op == "<or>":
        return capability in [w for w in words if w != "<or>"]
    if op == "s==":
        return capability == rest
    if op in ("==", ">=", "<=", "!="):
        try:
            have, want = float(capability), float(rest)
        except ValueError:
            return False
        return {"==": have == want, ">=": have >= want, "<=": have <= want, "!=": have != want}[op]
    return capability == wanted


def satisfies(service: VolumeService, specs: Mapping[str, str]) -> str | None:
    """Cinder's capabilities filter: None when the host's capabilities meet every extra spec that is unscoped or
    scoped ``capabilities:``, else the spec that fails. Specs of other scopes (``qos:``, ...) are not the
    host's to meet."""
    caps = {k: str(v) for k, v in capabilities(service).items()}
    for key, wanted in specs.items():
        scope, _, name = key.partition(":")
        if name and scope != "capabilities":
            continue
        name = name or scope
        if name not in caps or not _matches(caps[name], wanted):
            return f"{key}={wanted}"
    return None


def alive(conf: cfg.ConfigOpts, service: VolumeService) -> bool:
    limit = types.utcnow() - datetime.timedelta(seconds=conf.volume.service_down_time)
    updated = service.updated_at.replace(tzinfo=None) if service.updated_at.tzinfo else service.updated_at
    return updated >= limit.replace(tzinfo=None)


def zones(conf: cfg.ConfigOpts, s: Any) -> dict[str, bool]:
    """Each zone a manager reported, and whether one of its managers is up."""
    out: dict[str, bool] = {}
    for service in s.scalars(sa.select(VolumeService)):
        out[service.availability_zone] = out.get(service.availability_zone, False) or (
            alive(conf, service) and not service.disabled)
    return out


def pick(conf: cfg.ConfigOpts, s: Any, zone: str, size_gb: int, specs: Mapping[str, str] | None = None) -> str:
    """The live host in ``zone`` whose capabilities meet the volume type's extra ``specs`` with the most free GiB
    that still fits ``size_gb``; its row stays locked."""
    candidates: list[VolumeService] = [h for h in s.scalars(sa.select(VolumeService).where(VolumeService.availability_zone == zone))
                  if alive(conf, h) and not h.disabled]
    if not candidates:
        raise NoValidBackend(f"No valid backend was found: no volume service is up in availability zone {zone}.")
    unmet = {h.host: satisfies(h, specs or {}) for h in candidates}
    if all(unmet.values()):
        detail = ", ".join(f"{host} lacks {spec}" for host, spec in unmet.items())
        raise NoValidBackend(f"No valid backend was found: no host meets the volume type's extra specs ({detail}).")
    candidates = [h for h in candidates if unmet[h.host] is None]
    best, best_free = None, None
    for host in candidates:
        free = host.total_capacity_gb * host.max_over_subscription_ratio - allocated_gb(s, host.host)
        if free >= size_gb and (best_free is None or free > best_free):
            best, best_free = host, free
    if best is None:
        room = ", ".join(f"{h.host}: {h.total_capacity_gb} GiB x {h.max_over_subscription_ratio} ratio, "
                         f"{allocated_gb(s, h.host)} GiB allocated" for h in candidates)
        raise NoValidBackend(f"No valid backend was found: insufficient free capacity for {size_gb} GiB ({room}).")
    s.get(VolumeService, best.host, with_for_update=True)
    return best.host
