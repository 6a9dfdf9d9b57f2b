"""A dry run of the scheduler for a flavor: which hosts pass, which filters removed the others, and why.

The scheduler owns the answer (its filters and weighers, over RPC); the compute API only serves it. Nothing
is claimed in placement and nothing is recorded.
"""

from __future__ import annotations

from typing import Any

from nubis.common.context import RequestContext
from nubis.scheduler.request_spec import Flavor, RequestSpec
from nubis.scheduler.rpcapi import SchedulerAPI


class SchedulerExplain:
    """Asks the scheduler (``SchedulerAPI.explain``) about a request spec built from a flavor description."""

    def __init__(self, scheduler: SchedulerAPI) -> None:
        self.scheduler = scheduler

    def explain(self, ctx: RequestContext, flavor: dict[str, Any], image_properties: dict[str, Any] | None = None,
                availability_zone: str | None = None, force_host: str | None = None) -> dict[str, Any]:
        """The scheduler's report for ``flavor`` (``vcpus``, ``memory_mb``, optional ``root_gb``,
        ``ephemeral_gb``, ``swap_mb``, ``extra_specs``, ``name``), as the caller's project would boot it.

        Returns the scheduler's ``Explanation`` as a dict (``hosts_considered``, ``hosts_passing``,
        ``removed`` per stage, ``ranked_hosts``, ``summary``).
        """
        spec = RequestSpec(flavor=Flavor(**{"name": "explain", **flavor}), image_properties=image_properties or {},
                           availability_zone=availability_zone, force_host=force_host,
                           project_id=ctx.project_id or "", user_id=ctx.user_id or "")
        return self.scheduler.explain(ctx, spec)
