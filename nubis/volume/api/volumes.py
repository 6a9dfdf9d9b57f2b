"""``/v3/{project_id}/volumes``: create, list, show, update, delete, metadata and volume actions."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.volume.api import metadata
from nubis.volume.api.common import (
    authorize,
    authorize_owned,
    body_of,
    context,
    core,
    list_query,
    page_response,
    since,
    version_of,
)
from nubis.volume.api.schemas import size_of
from nubis.volume.api.schemas import volumes as schemas
from nubis.volume.api.views import volumes as views

FILTERS = ("name", "status", "availability_zone", "size")
_UNSUPPORTED_SOURCES = {"backup_id": "restoring a backup", "consistencygroup_id": "consistency groups"}


def _owned(req: router.Request, rule: str, volume_id: str) -> None:
    authorize_owned(req, rule, core(req).volumes.owner(volume_id))


def _render(req: router.Request, v: dict[str, Any]) -> dict[str, Any]:
    return views.detail(req, v, version_of(req), context(req).is_admin)


def create(req: router.Request) -> webob.Response:
    authorize(req, "volume:create")
    body = body_of(req)
    validation.validate(body, schemas.CREATE)
    spec = dict(body["volume"])
    for field, what in _UNSUPPORTED_SOURCES.items():
        if spec.get(field) is not None:
            raise exceptions.BadRequest(f"Invalid input received: {what} ({field}) is not supported yet.")
    if spec.get("multiattach"):
        raise exceptions.BadRequest("Invalid input received: multiattach volumes are not supported yet.")
    if version_of(req) < Version(3, 13):
        spec.pop("group_id", None)  # a volume joins a group from 3.13 (ignored before, as Cinder)
    spec["size"] = size_of(spec.get("size"))
    spec.setdefault("name", spec.get("display_name"))
    spec.setdefault("description", spec.get("display_description"))
    if sum(spec.get(k) is not None for k in ("snapshot_id", "source_volid", "imageRef")) > 1:
        raise exceptions.BadRequest("Invalid input received: name one of snapshot_id, source_volid and imageRef.")
    if spec.get("size") is None and all(spec.get(k) is None for k in ("snapshot_id", "source_volid", "imageRef")):
        raise exceptions.BadRequest("Invalid input for field/attribute size: a size is required.")
    volume = core(req).volumes.create(context(req), spec)
    return router.json_response({"volume": views.created(req, volume, version_of(req))}, status=202)


def _list(req: router.Request, detailed: bool) -> webob.Response:
    authorize(req, "volume:get_all")
    found, more = core(req).volumes.list(context(req), list_query(req, FILTERS))
    items = [_render(req, v) if detailed else views.summary(req, v) for v in found]
    return page_response(req, "volumes", items, more)


def index(req: router.Request) -> webob.Response:
    if req.path_info.endswith("/"):
        # ``GET .../volumes/``: a show with an empty id, which Cinder answers 404 (not the list).
        raise exceptions.NotFound("Volume could not be found: no volume id was given.")
    return _list(req, detailed=False)


def detail(req: router.Request) -> webob.Response:
    return _list(req, detailed=True)


@since(Version(3, 12))
def summary(req: router.Request) -> webob.Response:
    """``GET /volumes/summary`` (3.12): how many volumes the list would show and their GiB; from 3.36 also
    each metadata key with its values."""
    authorize(req, "volume:get_volume_summary")
    found = core(req).volumes.summary(context(req), list_query(req, FILTERS))
    if version_of(req) < Version(3, 36):
        del found["metadata"]
    return router.json_response({"volume-summary": found})


def show(req: router.Request, volume_id: str) -> webob.Response:
    _owned(req, "volume:get", volume_id)
    return router.json_response({"volume": _render(req, core(req).volumes.get(context(req), volume_id))})


def update(req: router.Request, volume_id: str) -> webob.Response:
    _owned(req, "volume:update", volume_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE)
    changes = dict(body["volume"])
    for old, new in (("display_name", "name"), ("display_description", "description")):
        if old in changes:
            changes.setdefault(new, changes.pop(old))
    if not changes:
        raise exceptions.BadRequest("Invalid input received: the volume body names nothing to change.")
    updated = core(req).volumes.update(context(req), volume_id, changes)
    return router.json_response({"volume": views.created(req, updated, version_of(req))})


def delete(req: router.Request, volume_id: str) -> webob.Response:
    _owned(req, "volume:delete", volume_id)
    core(req).volumes.delete(context(req), volume_id, cascade=req.GET.get("cascade", "").lower() == "true")
    return router.empty_response(202)


# -- actions ----------------------------------------------------------------------------

_ACTION_RULES = {
    "os-extend": "volume:extend",
    "os-set_bootable": "volume_extension:volume_actions:update_bootable",
    "os-update_readonly_flag": "volume_extension:volume_actions:update_readonly_flag",
    "os-initialize_connection": "volume_extension:volume_actions:initialize_connection",
    "os-terminate_connection": "volume_extension:volume_actions:terminate_connection",
    "os-reset_status": "volume_extension:volume_admin_actions:reset_status",
    "os-force_delete": "volume_extension:volume_admin_actions:force_delete",
    "os-force_detach": "volume_extension:volume_admin_actions:force_detach",
    "os-retype": "volume:retype",
    "os-set_image_metadata": "volume_extension:volume_image_metadata:set",
    "os-unset_image_metadata": "volume_extension:volume_image_metadata:remove",
    "os-show_image_metadata": "volume_extension:volume_image_metadata:show",
    "os-volume_upload_image": "volume_extension:volume_actions:upload_image",
}


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def action(req: router.Request, volume_id: str) -> webob.Response:
    """``POST .../volumes/{id}/action`` with one of ``schemas.ACTIONS``."""
    body = body_of(req)
    if len(body) != 1 or next(iter(body)) not in schemas.ACTIONS:
        raise exceptions.BadRequest(f"Invalid request body: it must name one action of "
                                    f"{', '.join(sorted(schemas.ACTIONS))}.")
    name, args = next(iter(body.items()))
    _owned(req, _ACTION_RULES.get(name, "volume_extension:volume_actions:attach"), volume_id)
    validation.validate(args, schemas.ACTIONS[name])
    ctx, volumes = context(req), core(req).volumes
    args = args or {}
    if name == "os-extend":
        # From 3.42 an attached (in-use) volume may grow too (Cinder's extend_attached_volume).
        volumes.extend(ctx, volume_id, int(args["new_size"]), in_use=version_of(req) >= Version(3, 42))
    elif name == "os-set_bootable":
        volumes.set_bootable(ctx, volume_id, _flag(args["bootable"]))
        return router.empty_response(200)
    elif name == "os-update_readonly_flag":
        volumes.set_readonly(ctx, volume_id, _flag(args["readonly"]))
    elif name == "os-reset_status":
        volumes.reset_status(ctx, volume_id, args.get("status"), args.get("attach_status"))
    elif name == "os-reserve":
        volumes.reserve(ctx, volume_id)
    elif name == "os-initialize_connection":
        info = core(req).attachments.initialize(ctx, volume_id, args["connector"])
        return router.json_response({"connection_info": info})
    elif name == "os-terminate_connection":
        core(req).attachments.terminate(ctx, volume_id)
    elif name == "os-unreserve":
        volumes.unreserve(ctx, volume_id)
    elif name == "os-attach":
        if bool(args.get("instance_uuid")) == bool(args.get("host_name")):
            raise exceptions.BadRequest("Invalid request to attach volume: name either instance_uuid or host_name.")
        volumes.attach(ctx, volume_id, args.get("instance_uuid"), args.get("host_name"), args["mountpoint"],
                       args.get("mode", "rw"))
    elif name == "os-begin_detaching":
        volumes.begin_detaching(ctx, volume_id)
    elif name == "os-roll_detaching":
        volumes.roll_detaching(ctx, volume_id)
    elif name == "os-detach":
        volumes.detach(ctx, volume_id, args.get("attachment_id"))
    elif name == "os-force_delete":
        volumes.delete(ctx, volume_id, force=True)
    elif name == "os-force_detach":
        volumes.force_detach(ctx, volume_id, args.get("attachment_id"))
    elif name == "os-retype":
        volumes.retype(ctx, volume_id, args["new_type"], args.get("migration_policy"))
    elif name == "os-set_image_metadata":
        return router.json_response({"metadata": volumes.set_image_metadata(ctx, volume_id, args["metadata"])})
    elif name == "os-unset_image_metadata":
        volumes.unset_image_metadata(ctx, volume_id, args["key"])
        return router.empty_response(200)
    elif name == "os-show_image_metadata":
        return router.json_response({"metadata": volumes.image_metadata(ctx, volume_id)})
    elif name == "os-volume_upload_image":
        return _upload_image(req, volume_id, args)
    return router.empty_response(202)


def _upload_image(req: router.Request, volume_id: str, args: dict[str, Any]) -> webob.Response:
    """``os-volume_upload_image``: 202 with the volume (uploading) and the new image's fields."""
    version = version_of(req)
    image = {"name": args["image_name"], "disk_format": args.get("disk_format", "raw"),
             "container_format": args.get("container_format", "bare"), "visibility": "private", "protected": False}
    if version >= Version(3, 1):
        image["visibility"] = args.get("visibility", "private")
        image["protected"] = _flag(args.get("protected", False))
    if image["visibility"] == "public":
        _owned(req, "volume_extension:volume_actions:upload_public", volume_id)
    made = core(req).volumes.upload_to_image(context(req), volume_id, image, _flag(args.get("force", False)))
    return router.json_response(views.uploaded(made, version), status=202)


# One rule for setting, replacing and deleting (policies.py: "volume:update_volume_metadata").
METADATA = metadata.MetadataOf("volume_id", lambda c: c.volumes, "volume:get_volume_metadata",
                               "volume:update_volume_metadata", "volume:update_volume_metadata")


def routes(prefix: str) -> router.RouteTable:
    item = f"{prefix}/volumes/{{volume_id}}"
    return {
        f"{prefix}/volumes": {"GET": index, "POST": create},
        f"{prefix}/volumes/detail": {"GET": detail},
        f"{prefix}/volumes/summary": {"GET": summary},
        item: {"GET": show, "PUT": update, "DELETE": delete},
        f"{item}/action": {"POST": action},
        **metadata.routes(item, METADATA),
    }
