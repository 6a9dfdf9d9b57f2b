"""``/limits``: the project's absolute limits and what it uses (another project's needs ``limits:other_project``)."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.compute.api.common import authorize, context, core, version_of
from nubis.compute.api.views import limits as views


def limits(req: router.Request) -> webob.Response:
    ctx = context(req)
    project = req.GET.get("tenant_id") or ctx.project_id
    if project != ctx.project_id:
        authorize(req, "limits:other_project", {"project_id": project})
    else:
        authorize(req, "limits")
    c = core(req)
    limit, used = c.quotas.limits(project), c.quotas.usage(project, ctx.user_id)
    return router.json_response({"limits": {"rate": [], "absolute": views.absolute(limit, used, version_of(req))}})


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/limits": {"GET": limits}}
