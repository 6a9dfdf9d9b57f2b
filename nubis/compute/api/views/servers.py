"""Servers as the Compute API shows them, per microversion."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from nubis.api.microversion import Version
from nubis.compute import networking, states
from nubis.compute.api.views.links import bookmark, links
from nubis.compute.db.models import Instance, InstanceFault

_SPACES = re.compile(r"[\s_]+")
_NOT_HOSTNAME = re.compile(r"[^a-z0-9.-]")


def _iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def host_id(project_id: str, host: str | None) -> str:
    """Opaque per-project host identity: users can tell "same host" without learning host names."""
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""


def _flavor(base: str, inst: Instance, version: Version) -> dict[str, Any]:
    f = inst.flavor
    if version >= Version(2, 47):
        return {"vcpus": f["vcpus"], "ram": f["memory_mb"], "disk": f["root_gb"], "ephemeral": f["ephemeral_gb"],
                "swap": f["swap"], "original_name": f["name"], "extra_specs": dict(f.get("extra_specs") or {})}
    return {"id": f["flavorid"], "links": [{"rel": "bookmark", "href": bookmark(base, "flavors", f["flavorid"])}]}


def _image(base: str, inst: Instance) -> dict[str, Any] | str:
    if not inst.image_ref:
        return ""  # booted from a volume: the reference shows an empty string
    return {"id": inst.image_ref, "links": [{"rel": "bookmark", "href": bookmark(base, "images", inst.image_ref)}]}


def hostname(name: str) -> str:
    """The guest hostname Nova derives from a server name: lowercase letters, digits and dashes, at most 63."""
    cleaned = _NOT_HOSTNAME.sub("", _SPACES.sub("-", name.lower())).strip(".-")[:63]
    return cleaned or "server"


def _extended_attributes(inst: Instance) -> dict[str, Any]:
    """The server attributes admins see from 2.3 (Nova's ``OS-EXT-SRV-ATTR`` set)."""
    return {
        # One server per reservation here unless created together; the create response names it the same way.
        "OS-EXT-SRV-ATTR:reservation_id": f"r-{inst.uuid[:8]}", "OS-EXT-SRV-ATTR:launch_index": 0,
        "OS-EXT-SRV-ATTR:hostname": hostname(inst.name),
        # Images boot with their own kernel here (no separate kernel/ramdisk images recorded).
        "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
        "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda" if inst.host else None,
        "OS-EXT-SRV-ATTR:user_data": inst.user_data,
    }


def server(base: str, inst: Instance, version: Version, is_admin: bool, fault: InstanceFault | None,
           host_status: str | None = None, security_groups: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The full (detail/show) form; ``is_admin`` adds the host attributes and fault details.

    ``security_groups`` (``[{"name": ...}]``, those of the server's ports) is shown when there are any: as
    in Nova, a server with no port in any group has no ``security_groups``.

    ``host_status`` (UP, DOWN, MAINTENANCE, UNKNOWN or "") is shown from 2.16 when the caller gives one: the
    handler decides, by policy, whether this caller may see it.
    """
    body: dict[str, Any] = {
        "id": inst.uuid, "name": inst.name, "status": states.status(inst.vm_state, inst.task_state),
        "tenant_id": inst.project_id, "user_id": inst.user_id, "metadata": dict(inst.metadata_items or {}),
        "hostId": host_id(inst.project_id, inst.host), "image": _image(base, inst),
        "flavor": _flavor(base, inst, version), "created": _iso(inst.created_at), "updated": _iso(inst.updated_at),
        "addresses": networking.addresses(inst.network_info), "accessIPv4": inst.access_ip_v4 or "",
        "accessIPv6": inst.access_ip_v6 or "", "links": links(base, "servers", inst.uuid),
        "OS-DCF:diskConfig": "AUTO" if inst.auto_disk_config else "MANUAL",
        "OS-EXT-AZ:availability_zone": inst.availability_zone or "",
        "config_drive": "True" if inst.config_drive else "", "key_name": inst.key_name,
        "OS-SRV-USG:launched_at": _iso(inst.launched_at), "OS-SRV-USG:terminated_at": _iso(inst.terminated_at),
        "OS-EXT-STS:task_state": inst.task_state, "OS-EXT-STS:vm_state": inst.vm_state,
        "OS-EXT-STS:power_state": inst.power_state, "os-extended-volumes:volumes_attached": [],
    }
    if security_groups:
        body["security_groups"] = security_groups
    if body["status"] in _PROGRESS_STATUSES:
        body["progress"] = 0  # the fake and libvirt drivers report no progress; Nova shows 0 then
    if is_admin:
        body.update({"OS-EXT-SRV-ATTR:host": inst.host, "OS-EXT-SRV-ATTR:hypervisor_hostname": inst.node,
                     "OS-EXT-SRV-ATTR:instance_name": f"instance-{inst.uuid[:8]}"})
    if is_admin and version >= Version(2, 3):
        body.update(_extended_attributes(inst))
    elif version >= Version(2, 90):
        body["OS-EXT-SRV-ATTR:hostname"] = hostname(inst.name)  # 2.90 shows the hostname to its owner too
    if version >= Version(2, 9):
        body["locked"] = bool(inst.locked)
    if version >= Version(2, 19):
        body["description"] = inst.description
    if version >= Version(2, 26):
        body["tags"] = list(inst.tags or [])
    if version >= Version(2, 63):
        body["trusted_image_certificates"] = None
    if version >= Version(2, 71):
        body["server_groups"] = []
    if version >= Version(2, 73):
        body["locked_reason"] = inst.locked_reason
    if host_status is not None and version >= Version(2, 16):
        body["host_status"] = host_status
    if fault is not None and inst.vm_state in (states.ERROR, states.DELETED):
        body["fault"] = {"code": fault.code, "message": fault.message, "created": _iso(fault.created_at)}
        if is_admin and fault.details:
            body["fault"]["details"] = fault.details
    return body


# Nova shows ``progress`` only while a server is in one of these statuses.
_PROGRESS_STATUSES = frozenset({"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"})

# Before 2.75 the update and rebuild responses show a shorter server: Nova's show without the fields its
# extensions added (zone, key, status details, host attributes, volumes, config drive, usage, security groups).
_CHANGED_FIELDS = frozenset({
    "id", "name", "status", "image", "flavor", "fault", "user_id", "tenant_id", "created", "updated", "progress",
    "metadata", "links", "addresses", "hostId", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "locked",
    "description", "tags", "trusted_image_certificates", "server_groups", "locked_reason"})
_FULL_CHANGED = Version(2, 75)


def updated(full: dict[str, Any], version: Version) -> dict[str, Any]:
    """The server of a ``PUT /servers/{id}`` response, from its full view at ``version``."""
    if version >= _FULL_CHANGED:
        return full
    body = {k: v for k, v in full.items() if k in _CHANGED_FIELDS}
    if isinstance(body.get("addresses"), dict):
        # Before 2.75 Nova shows an update's (and a rebuild's) addresses without the extended attributes.
        body["addresses"] = {net: [{k: v for k, v in a.items() if not k.startswith("OS-EXT-IPS")} for a in addrs]
                             for net, addrs in body["addresses"].items()}
    return body


def rebuilt(full: dict[str, Any], version: Version, user_data: str | None) -> dict[str, Any]:
    """The server of a rebuild response: as an update's, with ``key_name`` from 2.54 and ``user_data`` from 2.57."""
    body = dict(updated(full, version))
    # The rebuild shows its user data as ``user_data`` (2.57), never as the extended attribute.
    body.pop("OS-EXT-SRV-ATTR:user_data", None)
    if version >= Version(2, 54):
        body["key_name"] = full["key_name"]
    if version >= Version(2, 57):
        body["user_data"] = user_data
    return body


def server_brief(base: str, inst: Instance) -> dict[str, Any]:
    return {"id": inst.uuid, "name": inst.name, "links": links(base, "servers", inst.uuid)}


def with_admin_pass(body: dict[str, Any], admin_pass: str | None) -> dict[str, Any]:
    """``body`` with ``adminPass`` added when there is one to return (see ``passwords.admin_pass``)."""
    return body if admin_pass is None else {**body, "adminPass": admin_pass}


def created(base: str, server_id: str, admin_pass: str | None, disk_config: str = "MANUAL") -> dict[str, Any]:
    """The body of a 202 to ``POST /servers`` (``adminPass`` unless instance passwords are disabled)."""
    return with_admin_pass({"id": server_id, "links": links(base, "servers", server_id), "OS-DCF:diskConfig": disk_config,
                            "security_groups": [{"name": "default"}]}, admin_pass)
