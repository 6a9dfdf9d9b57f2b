"""The scheduler's RPC interface: the client other services use, and the server endpoint.

Version history:
  1.0 - select_destinations, explain, update_host, release
  1.1 - update_host_settings
  1.2 - select_destinations, explain: the spec as a versioned object (RequestSpecObject), ``spec_obj``
"""

from __future__ import annotations

import logging
from typing import Any

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext
from nubis.scheduler.manager import SchedulerManager
from nubis.scheduler.objects import RequestSpecObject
from nubis.scheduler.request_spec import RequestSpec

TOPIC = "scheduler"
LOG = logging.getLogger(__name__)

# The newest RequestSpecObject version each RPC version carries (an object bump adds a row here
# together with an RPC bump, so a capped client sends what the older scheduler can read).
SPEC_OBJECT_VERSIONS = {"1.2": "1.0"}
# Seconds one release send waits: a release is a NUMA-claim write and one placement DELETE, a few
# seconds even with placement slowed by the HA kill tests (up to 18 s seen).
RELEASE_TIMEOUT = 25


class SchedulerAPI(rpc.RPCClient):
    TOPIC = TOPIC
    VERSION = "1.2"

    def _spec_args(self, spec: RequestSpec) -> tuple[str, dict[str, Any]]:
        """The RPC version and argument carrying ``spec``: the newest object the cap allows, else 1.0's dict."""
        for rpc_version, obj_version in sorted(SPEC_OBJECT_VERSIONS.items(), reverse=True,
                                               key=lambda kv: tuple(map(int, kv[0].split(".")))):
            if self.can_send_version(rpc_version):
                primitive = RequestSpecObject.of(spec).obj_to_primitive(target_version=obj_version)
                return rpc_version, {"spec_obj": primitive}
        return "1.0", {"spec": spec.to_dict()}

    def select_destinations(self, ctxt: RequestContext, spec: RequestSpec,
                            return_alternates: bool = True) -> list[dict[str, Any]]:
        """Choose and claim a host for each of the spec's instances; raises NoValidHost with the reasons."""
        version, args = self._spec_args(spec)
        return self.prepare(version=version).call(
            ctxt, "select_destinations", return_alternates=return_alternates, **args)

    def explain(self, ctxt: RequestContext, spec: RequestSpec) -> dict[str, Any]:
        """A dry run: which hosts would pass, and how many each check removed and why."""
        version, args = self._spec_args(spec)
        return self.prepare(version=version).call(ctxt, "explain", **args)

    def update_host(self, ctxt: RequestContext, report: dict[str, Any]) -> None:
        """A compute host's periodic report (provider, zone, capabilities, NUMA cells)."""
        self.prepare(version="1.0").call(ctxt, "update_host", report=report)

    def update_host_settings(self, ctxt: RequestContext, host: str, settings: dict[str, Any]) -> bool:
        """The compute API's word on a host: ``availability_zone``, ``aggregate_metadata``, ``enabled``.

        False when the scheduler does not know the host, or is capped below 1.1 (a 1.0 scheduler has no
        host settings: it places by its own reports until it is upgraded)."""
        if not self.can_send_version("1.1"):
            LOG.warning("scheduler capped at %s: host settings of %s not sent", self.version_cap, host)
            return False
        return self.prepare(version="1.1").call(
            ctxt, "update_host_settings", host=host, settings=settings)

    def release(self, ctxt: RequestContext, instance_uuid: str) -> None:
        """Give back what a selection claimed (NUMA cells and placement allocation); raises
        ``MessagingTimeout`` when two sends, ``RELEASE_TIMEOUT`` seconds each, got no answer.

        A release is safe to run twice, so a send lost with a scheduler copy that died is sent again. Both
        sends fit in the 60 s a compute agent waits for the conductor's ``instance_deleted``, which releases.
        """
        self.call_idempotent(ctxt, "release", timeout=RELEASE_TIMEOUT, instance_uuid=instance_uuid)


def _received_spec(spec: dict[str, Any] | None, spec_obj: dict[str, Any] | None) -> RequestSpec:
    """The spec of a 1.2+ message (an object primitive) or of a 1.0/1.1 one (a dict)."""
    if spec_obj is not None:
        return RequestSpecObject.obj_from_primitive(spec_obj).to_spec()
    if spec is None:
        raise TypeError("select_destinations/explain needs spec (RPC 1.0) or spec_obj (RPC 1.2)")
    return RequestSpec.from_dict(spec)


class SchedulerEndpoint:
    target = oslo_messaging.Target(version="1.2")

    def __init__(self, manager: SchedulerManager) -> None:
        self.manager = manager

    def select_destinations(self, ctxt: Any, spec: dict[str, Any] | None = None, return_alternates: bool = True,
                            spec_obj: dict[str, Any] | None = None) -> list[Any]:
        return self.manager.select_destinations(_received_spec(spec, spec_obj), return_alternates)

    def explain(self, ctxt: Any, spec: dict[str, Any] | None = None,
                spec_obj: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.manager.explain(_received_spec(spec, spec_obj))

    def update_host(self, ctxt: Any, report: dict[str, Any]) -> None:
        self.manager.update_host(report)

    def update_host_settings(self, ctxt: Any, host: str, settings: dict[str, Any]) -> bool:
        return self.manager.update_host_settings(host, settings)

    def release(self, ctxt: Any, instance_uuid: str) -> None:
        self.manager.release(instance_uuid)
