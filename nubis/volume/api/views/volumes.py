"""Volume bodies (Cinder v3 ``volume``), per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.api.router import Request
from nubis.volume.api.views import timestamp


def links(req: Request, project_id: str, volume_id: str) -> list[dict[str, str]]:
    base = req.application_url
    return [{"rel": "self", "href": f"{base}/v3/{project_id}/volumes/{volume_id}"},
            {"rel": "bookmark", "href": f"{base}/{project_id}/volumes/{volume_id}"}]


def summary(req: Request, v: dict[str, Any]) -> dict[str, Any]:
    return {"id": v["id"], "name": v["name"], "links": links(req, v["project_id"], v["id"])}


def _attachment(a: dict[str, Any]) -> dict[str, Any]:
    return {"id": a["volume_id"], "attachment_id": a["id"], "volume_id": a["volume_id"],
            "server_id": a["instance_uuid"], "host_name": a["attached_host"], "device": a["mountpoint"],
            "attached_at": timestamp(a["created_at"])}


def created(req: Request, v: dict[str, Any], version: Version) -> dict[str, Any]:
    """The body of a create or update: the detail without the tenant, host and migration attributes (as
    Cinder, and Tempest's schemas, have it)."""
    body = detail(req, v, version, is_admin=False)
    del body["os-vol-tenant-attr:tenant_id"]
    body.pop("volume_image_metadata", None)
    return body


def detail(req: Request, v: dict[str, Any], version: Version, is_admin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": v["id"], "name": v["name"], "description": v["description"], "size": v["size"],
        "status": v["status"], "availability_zone": v["availability_zone"], "volume_type": v["volume_type"],
        "snapshot_id": v["snapshot_id"], "source_volid": v["source_volid"], "metadata": v["metadata"],
        "bootable": "true" if v["bootable"] else "false", "encrypted": False, "multiattach": v["multiattach"],
        "attachments": [_attachment(a) for a in v["attachments"]], "user_id": v["user_id"],
        "consistencygroup_id": None, "replication_status": None,
        "created_at": timestamp(v["created_at"]), "updated_at": timestamp(v["updated_at"]),
        "os-vol-tenant-attr:tenant_id": v["project_id"], "links": links(req, v["project_id"], v["id"]),
    }
    if v["image_metadata"]:
        body["volume_image_metadata"] = v["image_metadata"]
    if is_admin:
        # Cinder's host@backend#pool.
        host = f"{v['host']}@{v['backend']}#{v['backend']}" if v["host"] else None
        body.update({"os-vol-host-attr:host": host, "os-vol-mig-status-attr:migstat": None,
                     "os-vol-mig-status-attr:name_id": None, "migration_status": None})
    if version >= Version(3, 13):
        body["group_id"] = v.get("group_id")
    if version >= Version(3, 21) and is_admin:
        body["provider_id"] = None
    if version >= Version(3, 48):
        body["shared_targets"] = False
        body["service_uuid"] = None
    return body


def uploaded(u: dict[str, Any], version: Version) -> dict[str, Any]:
    """Cinder's ``os-volume_upload_image`` answer: the volume (status uploading), its type and the new image;
    ``visibility`` and ``protected`` from 3.1."""
    vtype = u["volume_type"]
    if vtype is not None:
        vtype = {**vtype, "created_at": timestamp(vtype["created_at"]), "updated_at": timestamp(vtype["updated_at"])}
    body = {"id": u["id"], "updated_at": timestamp(u["updated_at"]), "status": u["status"],
            "display_description": u["display_description"], "size": u["size"], "volume_type": vtype,
            "image_id": u["image_id"], "container_format": u["container_format"], "disk_format": u["disk_format"],
            "image_name": u["image_name"]}
    if version >= Version(3, 1):
        body.update({"visibility": u["visibility"], "protected": u["protected"]})
    return {"os-volume_upload_image": body}
