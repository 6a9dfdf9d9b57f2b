"""What an instance's flavor (as the compute database keeps it) holds in placement; the calls that change it
are ``nubis.common.clients.placement.PlacementClient``'s ``reallocate`` and ``hand_over``."""

from __future__ import annotations

from typing import Any

from nubis.scheduler.request_spec import Flavor, RequestSpec
from nubis.scheduler.resources import resources_for


def flavor_resources(flavor: dict[str, Any]) -> dict[str, int]:
    """Resource class -> amount for a flavor dict (``name``, ``vcpus``, ``memory_mb``, ``root_gb``, ...)."""
    spec = RequestSpec(flavor=Flavor(name=flavor["name"], vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"],
                                     root_gb=flavor["root_gb"], ephemeral_gb=flavor.get("ephemeral_gb", 0),
                                     swap_mb=flavor.get("swap", 0), extra_specs=flavor.get("extra_specs") or {}))
    return resources_for(spec)
