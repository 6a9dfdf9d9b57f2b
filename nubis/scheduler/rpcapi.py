"""The scheduler's RPC interface: the client other services use, and the server endpoint.

Version history:
  1.0 - select_destinations, explain, update_host, release
  1.1 - update_host_settings
"""

from __future__ import annotations

from typing import Any

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext
from nubis.scheduler.manager import SchedulerManager
from nubis.scheduler.request_spec import RequestSpec

TOPIC = "scheduler"


class SchedulerAPI(rpc.RPCClient):
    TOPIC = TOPIC
    VERSION = "1.1"

    def select_destinations(self, ctxt: RequestContext, spec: RequestSpec,
                            return_alternates: bool = True) -> list[dict[str, Any]]:
        """Choose and claim a host for each of the spec's instances; raises NoValidHost with the reasons."""
        return self.prepare(version="1.0").call(  # type: ignore[no-any-return]
            ctxt, "select_destinations", spec=spec.to_dict(), return_alternates=return_alternates)

    def explain(self, ctxt: RequestContext, spec: RequestSpec) -> dict[str, Any]:
        """A dry run: which hosts would pass, and how many each check removed and why."""
        return self.prepare(version="1.0").call(ctxt, "explain", spec=spec.to_dict())  # type: ignore[no-any-return]

    def update_host(self, ctxt: RequestContext, report: dict[str, Any]) -> None:
        """A compute host's periodic report (provider, zone, capabilities, NUMA cells)."""
        self.prepare(version="1.0").call(ctxt, "update_host", report=report)

    def update_host_settings(self, ctxt: RequestContext, host: str, settings: dict[str, Any]) -> bool:
        """The compute API's word on a host: ``availability_zone``, ``aggregate_metadata``, ``enabled``."""
        return self.prepare(version="1.1").call(  # type: ignore[no-any-return]
            ctxt, "update_host_settings", host=host, settings=settings)

    def release(self, ctxt: RequestContext, instance_uuid: str) -> None:
        """Give back what a selection claimed (NUMA cells and placement allocation)."""
        self.prepare(version="1.0").call(ctxt, "release", instance_uuid=instance_uuid)


class SchedulerEndpoint:
    target = oslo_messaging.Target(version="1.1")

    def __init__(self, manager: SchedulerManager) -> None:
        self.manager = manager

    def select_destinations(self, ctxt: Any, spec: dict[str, Any], return_alternates: bool = True) -> list[Any]:
        return self.manager.select_destinations(RequestSpec.from_dict(spec), return_alternates)

    def explain(self, ctxt: Any, spec: dict[str, Any]) -> dict[str, Any]:
        return self.manager.explain(RequestSpec.from_dict(spec))

    def update_host(self, ctxt: Any, report: dict[str, Any]) -> None:
        self.manager.update_host(report)

    def update_host_settings(self, ctxt: Any, host: str, settings: dict[str, Any]) -> bool:
        return self.manager.update_host_settings(host, settings)

    def release(self, ctxt: Any, instance_uuid: str) -> None:
        self.manager.release(instance_uuid)
