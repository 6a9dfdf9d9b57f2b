"""``/v3/{project_id}/attachments`` (3.27+): the new-style attach flow Nova uses; ``os-complete`` from 3.44."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.volume.api.common import authorize, authorize_owned, body_of, context, core, is_true, since, version_of
from nubis.volume.api.schemas import attachments as schemas
from nubis.volume.api.views import attachments as views

V327 = Version(3, 27)


def _owned(req: router.Request, rule: str, attachment_id: str) -> None:
    authorize_owned(req, rule, core(req).attachments.owner(attachment_id))


def _list(req: router.Request, detailed: bool) -> webob.Response:
    authorize(req, "volume:attachment_get_all")
    ctx = context(req)
    filters = {k: req.GET[k] for k in ("volume_id", "instance_id", "status", "attach_status") if k in req.GET}
    found = core(req).attachments.list(ctx, ctx.is_admin and is_true(req.GET.get("all_tenants")), filters)
    return router.json_response({"attachments": [views.detail(a) if detailed else views.summary(a) for a in found]})


@since(V327)
def index(req: router.Request) -> webob.Response:
    return _list(req, detailed=False)


@since(V327)
def detail(req: router.Request) -> webob.Response:
    return _list(req, detailed=True)


@since(V327)
def create(req: router.Request) -> webob.Response:
    body = body_of(req)
    validation.validate(body, schemas.CREATE)
    spec = body["attachment"]
    authorize_owned(req, "volume:attachment_create", core(req).volumes.owner(spec["volume_uuid"]))
    if "mode" in spec and version_of(req) < Version(3, 54):
        raise exceptions.BadRequest("Invalid input received: 'mode' needs microversion 3.54 or later.")
    made = core(req).attachments.create(context(req), spec["volume_uuid"], spec.get("instance_uuid"),
                                        spec.get("connector"), spec.get("mode", "rw"))
    return router.json_response({"attachment": views.detail(made)})


@since(V327)
def show(req: router.Request, attachment_id: str) -> webob.Response:
    _owned(req, "volume:attachment_get_all", attachment_id)
    return router.json_response({"attachment": views.detail(core(req).attachments.get(context(req), attachment_id))})


@since(V327)
def update(req: router.Request, attachment_id: str) -> webob.Response:
    _owned(req, "volume:attachment_update", attachment_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE)
    found = core(req).attachments.update(context(req), attachment_id, body["attachment"]["connector"])
    return router.json_response({"attachment": views.detail(found)})


@since(V327)
def delete(req: router.Request, attachment_id: str) -> webob.Response:
    _owned(req, "volume:attachment_delete", attachment_id)
    left = core(req).attachments.delete(context(req), attachment_id)
    return router.json_response({"attachments": [views.summary(a) for a in left]})


@since(Version(3, 44))
def action(req: router.Request, attachment_id: str) -> webob.Response:
    _owned(req, "volume:attachment_complete", attachment_id)
    validation.validate(body_of(req), schemas.COMPLETE)
    core(req).attachments.complete(context(req), attachment_id)
    return router.empty_response(204)


def routes(prefix: str) -> router.RouteTable:
    item = f"{prefix}/attachments/{{attachment_id}}"
    return {
        f"{prefix}/attachments": {"GET": index, "POST": create},
        f"{prefix}/attachments/detail": {"GET": detail},
        item: {"GET": show, "PUT": update, "DELETE": delete},
        f"{item}/action": {"POST": action},
    }
