"""Changing what an existing instance holds in placement (resize, moves between hosts, their reverts)."""

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


def _held(http: ks_adapter.Adapter, consumer: str) -> dict[str, Any]:
    return http.get(f"/allocations/{consumer}", microversion=MICROVERSION).json()  # type: ignore[no-any-return]


def hand_over(http: ks_adapter.Adapter, giver: str, taker: str, consumer_type: str) -> None:
    """Move everything ``giver`` holds to ``taker``, replacing what ``taker`` held, in one transaction.

    A move parks the source host's resources on the migration's uuid this way,
    so the instance's own uuid is free to claim the destination; a revert hands
    them back to the instance, which frees the destination at the same time.
    """
    for _ in range(3):
        given, taken = _held(http, giver), _held(http, taker)
        if not given.get("allocations"):
            return
        owner = {"project_id": given["project_id"], "user_id": given["user_id"]}
        body = {giver: {"allocations": {}, "consumer_generation": given.get("consumer_generation"),
                        "consumer_type": given.get("consumer_type") or "INSTANCE", **owner},
                taker: {"allocations": {rp: {"resources": a["resources"]} for rp, a in given["allocations"].items()},
                        "consumer_generation": taken.get("consumer_generation"), "consumer_type": consumer_type,
                        **owner}}
        resp = http.post("/allocations", json=body, raise_exc=False, microversion=MICROVERSION)
        if resp.status_code == 204:
            return
        if resp.status_code != 409 or "concurrent_update" not in resp.text:
            raise PlacementError(f"placement refused to move {giver}'s allocation: {resp.status_code} "
                                 f"{resp.text[:300]}")
    raise PlacementError(f"could not move {giver}'s allocation: it kept changing")
