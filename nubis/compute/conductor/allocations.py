"""Changing what an existing instance holds in placement (resize and its revert)."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import adapter as ks_adapter

from nubis.scheduler.placement_client import resources_for
from nubis.scheduler.request_spec import Flavor, RequestSpec

MICROVERSION = "1.39"


class PlacementError(Exception):
    pass


def flavor_resources(flavor: dict[str, Any]) -> dict[str, int]:
    spec = RequestSpec(flavor=Flavor(name=flavor["name"], vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"],
                                     root_gb=flavor["root_gb"], ephemeral_gb=flavor.get("ephemeral_gb", 0),
                                     swap_mb=flavor.get("swap", 0), extra_specs=flavor.get("extra_specs") or {}))
    return resources_for(spec)


def reallocate(http: ks_adapter.Adapter, consumer: str, provider: str, resources: dict[str, int]) -> bool:
    """Make ``consumer`` hold ``resources`` on ``provider`` instead of what it holds now.

    Placement replaces the old allocation and checks capacity in one transaction,
    so a same-host resize only needs room for the difference. False when the
    host has no room for it.
    """
    for _ in range(3):
        current = http.get(f"/allocations/{consumer}", microversion=MICROVERSION).json()
        body = {"allocations": {provider: {"resources": resources}},
                "project_id": current.get("project_id") or "unknown", "user_id": current.get("user_id") or "unknown",
                "consumer_generation": current.get("consumer_generation"), "consumer_type": "INSTANCE"}
        resp = http.put(f"/allocations/{consumer}", json=body, raise_exc=False, microversion=MICROVERSION)
        if resp.status_code == 204:
            return True
        if resp.status_code != 409:
            raise PlacementError(f"placement answered {resp.status_code}: {resp.text[:300]}")
        if "concurrent_update" not in resp.text:
            return False  # not enough room
    return False
