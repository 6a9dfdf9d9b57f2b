"""``/os-simple-tenant-usage``: instance hours per project over a period (the basis for billing)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.common.db import types as db_types
from nubis.compute.api.common import authorize, core, is_true, page_limit, version_of
from nubis.compute.core.usage import parse_time


def _period(req: router.Request) -> tuple[Any, Any]:
    now = db_types.utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (parse_time(req.GET.get("start"), month_start, "start"), parse_time(req.GET.get("end"), now, "end"))


def _page(req: router.Request) -> dict[str, Any]:
    """2.40's paging (``marker``, ``limit``); before it every instance is on one page."""
    if version_of(req) < Version(2, 40):
        return {}
    return {"marker": req.GET.get("marker"), "limit": page_limit(req.GET.get("limit"))}


def list_usage(req: router.Request) -> webob.Response:
    if req.path_info.endswith("/"):
        # ``/os-simple-tenant-usage/``: one project's usage with an empty project id, which Nova does not find.
        raise exceptions.NotFound("No project given: use /os-simple-tenant-usage/{tenant_id}.")
    authorize(req, "os-simple-tenant-usage:list")
    start, end = _period(req)
    detailed = is_true(req.GET.get("detailed", "0"))
    return router.json_response({"tenant_usages": core(req).usage.tenant_usages(start, end, None, detailed,
                                                                                       **_page(req))})


def show_usage(req: router.Request, project_id: str) -> webob.Response:
    authorize(req, "os-simple-tenant-usage:show", {"project_id": project_id})
    start, end = _period(req)
    found = core(req).usage.tenant_usages(start, end, project_id, True, **_page(req))
    return router.json_response({"tenant_usage": found[0] if found else {}})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-simple-tenant-usage": {"GET": list_usage},
        f"{prefix}/os-simple-tenant-usage/{{project_id}}": {"GET": show_usage},
    }
