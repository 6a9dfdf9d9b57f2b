"""``/limits``: the project's absolute limits and what it uses (another project's needs ``limits:other_project``)."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.compute.api.common import authorize, context, core

# Nova's names for the quota resources in ``absolute``.
_MAX = {"maxTotalInstances": "instances", "maxTotalCores": "cores", "maxTotalRAMSize": "ram",
        "maxTotalKeypairs": "key_pairs", "maxServerMeta": "metadata_items", "maxServerGroups": "server_groups",
        "maxServerGroupMembers": "server_group_members"}
_USED = {"totalInstancesUsed": "instances", "totalCoresUsed": "cores", "totalRAMUsed": "ram",
         "totalServerGroupsUsed": "server_groups"}


def limits(req: router.Request) -> webob.Response:
    ctx = context(req)
    project = req.GET.get("tenant_id") or ctx.project_id
    if project != ctx.project_id:
        authorize(req, "limits:other_project", {"project_id": project})
    else:
        authorize(req, "limits")
    c = core(req)
    limit, used = c.quotas.limits(project), c.quotas.usage(project, ctx.user_id)
    absolute = {k: limit[v] for k, v in _MAX.items()} | {k: used[v] for k, v in _USED.items()}
    return router.json_response({"limits": {"rate": [], "absolute": absolute}})


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/limits": {"GET": limits}}
