"""Nova's volume proxies, ``/os-volumes`` and ``/os-snapshots`` (deprecated; 404 from microversion 2.36 on).

Each call goes to the block storage service as the caller (``VolumeClient``), and the answer is shown in Nova's
shape: camelCase fields, ``displayName``/``displayDescription``, attachments as ``{id, volumeId, serverId,
device}``. ``limit`` and ``offset`` page the lists as Nova's ``common.limited`` does.
"""

from __future__ import annotations

from typing import Any

import webob
from oslo_utils import strutils

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.common.clients.volume import VolumeClient
from nubis.compute.api.common import authorize, body_of, context, core, until
from nubis.compute.api.schemas import volume_attachments as schemas

LAST = Version(2, 35)


def _client(req: router.Request) -> VolumeClient:
    client = core(req).volume_attachments.volumes
    if client is None:
        raise exceptions.NotFound("This cloud has no block storage service.")
    return client


def _volume(v: dict[str, Any]) -> dict[str, Any]:
    attachments = [{"id": a.get("attachment_id") or v["id"], "volumeId": v["id"], "serverId": a.get("server_id"),
                    "device": a.get("device")} for a in v.get("attachments") or []]
    return {"id": v["id"], "status": v["status"], "size": v["size"],
            "availabilityZone": v.get("availability_zone"), "createdAt": v.get("created_at"),
            "displayName": v.get("name"), "displayDescription": v.get("description"),
            "volumeType": v.get("volume_type"), "snapshotId": v.get("snapshot_id"),
            "metadata": v.get("metadata") or {}, "attachments": attachments or [{}]}


def _brief(v: dict[str, Any]) -> dict[str, Any]:
    return _volume(v)  # Nova's summary and detail views of a volume are the same


def _snapshot(s: dict[str, Any]) -> dict[str, Any]:
    return {"id": s["id"], "volumeId": s["volume_id"], "status": s["status"], "size": s["size"],
            "createdAt": s.get("created_at"), "displayName": s.get("name"),
            "displayDescription": s.get("description")}


def _limited(req: router.Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nova's ``limited``: ``offset`` items skipped, at most ``limit`` (400 for a negative or bad number)."""
    def number(name: str) -> int | None:
        raw = req.GET.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise exceptions.BadRequest(f"{name} param must be an integer")
        return int(raw)

    offset, limit = number("offset") or 0, number("limit")
    return items[offset:] if limit is None else items[offset:offset + limit]


def _refuse_empty_id(req: router.Request, collection: str) -> None:
    """``GET /os-volumes/``: a show with an empty id, which Nova does not find (404), not the list."""
    if req.path_info.endswith("/"):
        raise exceptions.NotFound(f"No id given: use /{collection}/{{id}}.")


@until(LAST)
def list_volumes(req: router.Request) -> webob.Response:
    _refuse_empty_id(req, "os-volumes")
    authorize(req, "os-volumes:list")
    found = _limited(req, _client(req).list_volumes(context(req)))
    return router.json_response({"volumes": [_brief(v) for v in found]})


@until(LAST)
def list_volumes_detail(req: router.Request) -> webob.Response:
    authorize(req, "os-volumes:list")
    found = _limited(req, _client(req).list_volumes(context(req)))
    return router.json_response({"volumes": [_volume(v) for v in found]})


@until(LAST)
def show_volume(req: router.Request, volume_id: str) -> webob.Response:
    authorize(req, "os-volumes:show")
    return router.json_response({"volume": _volume(_client(req).get_volume(context(req), volume_id))})


@until(LAST)
def create_volume(req: router.Request) -> webob.Response:
    body = body_of(req)
    validation.validate(body, schemas.PROXY_VOLUME)
    authorize(req, "os-volumes:create")
    spec = body["volume"]
    cinder = {"size": int(spec["size"]), "name": spec.get("display_name"),
              "description": spec.get("display_description"), "metadata": spec.get("metadata") or {}}
    for ours, theirs in (("volume_type", "volume_type"), ("availability_zone", "availability_zone"),
                         ("snapshot_id", "snapshot_id")):
        if spec.get(ours):
            cinder[theirs] = spec[ours]
    return router.json_response({"volume": _volume(_client(req).create_volume(context(req), cinder))})


@until(LAST)
def delete_volume(req: router.Request, volume_id: str) -> webob.Response:
    authorize(req, "os-volumes:delete")
    _client(req).delete_volume_strict(context(req), volume_id)
    return router.empty_response(202)


@until(LAST)
def list_snapshots(req: router.Request) -> webob.Response:
    _refuse_empty_id(req, "os-snapshots")
    authorize(req, "os-volumes:snapshots:list")
    found = _limited(req, _client(req).list_snapshots(context(req)))
    return router.json_response({"snapshots": [_snapshot(s) for s in found]})


@until(LAST)
def show_snapshot(req: router.Request, snapshot_id: str) -> webob.Response:
    authorize(req, "os-volumes:snapshots:show")
    return router.json_response({"snapshot": _snapshot(_client(req).get_snapshot(context(req), snapshot_id))})


@until(LAST)
def create_snapshot(req: router.Request) -> webob.Response:
    body = body_of(req)
    validation.validate(body, schemas.PROXY_SNAPSHOT)
    authorize(req, "os-volumes:snapshots:create")
    spec = body["snapshot"]
    made = _client(req).create_snapshot(context(req), {
        "volume_id": spec["volume_id"], "force": strutils.bool_from_string(spec.get("force", False)), "name": spec.get("display_name"),
        "description": spec.get("display_description")})
    return router.json_response({"snapshot": _snapshot(made)})


@until(LAST)
def delete_snapshot(req: router.Request, snapshot_id: str) -> webob.Response:
    authorize(req, "os-volumes:snapshots:delete")
    _client(req).delete_snapshot(context(req), snapshot_id)
    return router.empty_response(202)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-volumes": {"GET": list_volumes, "POST": create_volume},
        f"{prefix}/os-volumes/detail": {"GET": list_volumes_detail},
        f"{prefix}/os-volumes/{{volume_id}}": {"GET": show_volume, "DELETE": delete_volume},
        f"{prefix}/os-snapshots": {"GET": list_snapshots, "POST": create_snapshot},
        f"{prefix}/os-snapshots/detail": {"GET": list_snapshots},
        f"{prefix}/os-snapshots/{{snapshot_id}}": {"GET": show_snapshot, "DELETE": delete_snapshot},
    }
