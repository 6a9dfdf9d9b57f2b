"""What this cloud offers besides resources: its availability zones and advanced-service providers.

Every agent runs in the one zone Neutron names by default (``nova``), for both
resources that take zone hints (networks and routers). No advanced service
(load balancing, VPN, ...) is plugged in, so the service-provider list is empty,
as Neutron's is when none is configured.
"""

from __future__ import annotations

from typing import Any

from nubis.network.core.common import NetworkCoreHandle

DEFAULT_ZONE = "nova"
ZONED_RESOURCES = ("network", "router")


class Offerings:
    def __init__(self, core: NetworkCoreHandle) -> None:
        self.core = core

    def availability_zones(self) -> list[dict[str, Any]]:
        """``[{name, resource, state}]``, one per zone and resource kind (Neutron's availability_zone API)."""
        return [{"name": DEFAULT_ZONE, "resource": r, "state": "available"} for r in ZONED_RESOURCES]

    def service_providers(self) -> list[dict[str, Any]]:
        """``[{service_type, name, default}]`` of the configured advanced-service drivers."""
        return []
