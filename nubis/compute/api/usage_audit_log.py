"""``/os-instance_usage_audit_log``: the periodic instance usage audit of the last whole month, per host."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.compute.api.common import authorize, core
from nubis.compute.core import timestamps


def list_audit_log(req: router.Request) -> webob.Response:
    authorize(req, "os-instance-usage-audit-log:list")
    return router.json_response({"instance_usage_audit_logs": core(req).hosts.audit_log(None)})


def show_audit_log(req: router.Request, before_timestamp: str) -> webob.Response:
    """The audit of the last whole month before ``before_timestamp`` (``2026-11-01 10:00:00[.ffffff]``)."""
    authorize(req, "os-instance-usage-audit-log:show")
    before = timestamps.parse(before_timestamp, "before_timestamp")
    return router.json_response({"instance_usage_audit_log": core(req).hosts.audit_log(before)})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-instance_usage_audit_log": {"GET": list_audit_log},
        f"{prefix}/os-instance_usage_audit_log/{{before_timestamp}}": {"GET": show_audit_log},
    }
