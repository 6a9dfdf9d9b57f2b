"""A volume attachment as Nova shows it, per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version


def attachment(a: dict[str, Any], version: Version, created: bool = False) -> dict[str, Any]:
    """``a`` from ``VolumeAttachments``: ``id`` until 2.89 (then ``attachment_id``, ``bdm_uuid``), ``tag`` from
    2.70, ``delete_on_termination`` from 2.79; the response to a POST has them from the same versions."""
    out: dict[str, Any] = {"device": a["device"], "serverId": a["serverId"], "volumeId": a["volumeId"]}
    if version < Version(2, 89):
        out["id"] = a["volumeId"]
    if version >= Version(2, 70):
        out["tag"] = a["tag"]
    if version >= Version(2, 79):
        out["delete_on_termination"] = a["delete_on_termination"]
    if version >= Version(2, 89) and not created:
        out["attachment_id"] = a["attachment_id"]
        out["bdm_uuid"] = a["bdm_uuid"]
    return out


def volumes_attached(found: list[dict[str, Any]], version: Version) -> list[dict[str, Any]]:
    """A server's ``os-extended-volumes:volumes_attached``: the volume ids, ``delete_on_termination`` from 2.3."""
    if version >= Version(2, 3):
        return [{"id": a["volumeId"], "delete_on_termination": a["delete_on_termination"]} for a in found]
    return [{"id": a["volumeId"]} for a in found]
