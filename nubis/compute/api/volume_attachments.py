"""``/servers/{server_id}/os-volume_attachments``: list, show, attach (POST), update (PUT) and detach (DELETE)
volumes.

Nova's API: the attachment's ``id`` is the volume id; ``tag`` from 2.49, ``delete_on_termination`` from 2.79,
``attachment_id`` and ``bdm_uuid`` from 2.89 (where ``id`` is no longer shown). The policies are Nova's
``os_compute_api:os-volumes-attachments:*`` under their short names here.
"""

from __future__ import annotations

import webob
from oslo_utils import strutils

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import context, core, version_of
from nubis.compute.api.schemas import pick
from nubis.compute.api.schemas import volume_attachments as schemas
from nubis.compute.api.servers import owned_server
from nubis.compute.api.views import volume_attachments as views

# Attach to and detach from shelved-offloaded servers (Nova's 2.20); before it, their state is a 409.
SHELVED_OFFLOADED_SINCE = Version(2, 20)


def index(req: router.Request, server_id: str) -> webob.Response:
    owned_server(req, server_id, "os-volumes-attachments:index")
    found = core(req).volume_attachments.list(context(req), server_id)
    return router.json_response({"volumeAttachments": [views.attachment(a, version_of(req)) for a in found]})


def show(req: router.Request, server_id: str, volume_id: str) -> webob.Response:
    owned_server(req, server_id, "os-volumes-attachments:show")
    found = core(req).volume_attachments.get(context(req), server_id, volume_id)
    return router.json_response({"volumeAttachment": views.attachment(found, version_of(req))})


def create(req: router.Request, server_id: str) -> webob.Response:
    body = req.json_body()
    validation.validate(body, pick(schemas.CREATE, version_of(req)))
    spec = body["volumeAttachment"]
    owned_server(req, server_id, "os-volumes-attachments:create")
    made = core(req).volume_attachments.attach(
        context(req), server_id, spec["volumeId"], spec.get("tag"),
        strutils.bool_from_string(spec.get("delete_on_termination", False), strict=True),
        shelved=version_of(req) >= SHELVED_OFFLOADED_SINCE)
    return router.json_response({"volumeAttachment": views.attachment(made, version_of(req), created=True)})


def update(req: router.Request, server_id: str, volume_id: str) -> webob.Response:
    """``PUT``: from 2.85, the same volume with a new ``delete_on_termination``; a different ``volumeId`` is a
    swap, which is refused (409) once the attachment is found."""
    body = req.json_body()
    version = version_of(req)
    validation.validate(body, pick(schemas.UPDATE, version))
    spec = body["volumeAttachment"]
    swap = version < Version(2, 85) or spec["volumeId"] != volume_id
    owned_server(req, server_id, "os-volumes-attachments:swap" if swap else "os-volumes-attachments:update")
    attachments = core(req).volume_attachments
    if swap:
        if set(spec) - {"volumeId"}:
            raise exceptions.BadRequest("A swap of volumes (a different volumeId) may change nothing else.")
        attachments.swap(context(req), server_id, volume_id, spec["volumeId"])
    else:
        attachments.update(context(req), server_id, volume_id, {k: v for k, v in spec.items() if k != "volumeId"})
    return router.empty_response(202)


def delete(req: router.Request, server_id: str, volume_id: str) -> webob.Response:
    owned_server(req, server_id, "os-volumes-attachments:delete")
    core(req).volume_attachments.detach(context(req), server_id, volume_id,
                                        shelved=version_of(req) >= SHELVED_OFFLOADED_SINCE)
    return router.empty_response(202)


def routes(prefix: str) -> router.RouteTable:
    collection = f"{prefix}/servers/{{server_id}}/os-volume_attachments"
    return {
        collection: {"GET": index, "POST": create},
        f"{collection}/{{volume_id}}": {"GET": show, "PUT": update, "DELETE": delete},
    }
