"""``GET /servers/{server_id}/diagnostics`` (admins): what the hypervisor counts for a running guest.

API reference: compute "Servers diagnostics". From 2.48 the body is Nova's standard form (state, driver,
memory_details, cpu/nic/disk details...); before it, the libvirt driver's flat counters (``cpu0_time``,
``memory``, ``vda_read``...).
"""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.compute.api.common import context, core, version_of
from nubis.compute.api.servers import owned_server

STANDARD_SINCE = Version(2, 48)


def show(req: router.Request, server_id: str) -> webob.Response:
    inst = owned_server(req, server_id, "os-server-diagnostics")
    found = core(req).guest_ops.diagnostics(context(req), inst.uuid)
    return router.json_response(found.standard() if version_of(req) >= STANDARD_SINCE else found.legacy())


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/servers/{{server_id}}/diagnostics": {"GET": show}}
