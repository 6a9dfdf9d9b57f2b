"""createImage and shelve: a server's disk saved as an image in the image service, owned by its project."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from keystoneauth1 import exceptions as ks_exc

from nubis.common import exceptions
from nubis.common.clients.image import image_path
from nubis.common.context import RequestContext
from nubis.compute import states
from nubis.compute.agent.rpcapi import BOOT_FROM_VOLUME
from nubis.compute.core.boot_volumes import ROOT_DEVICE
from nubis.compute.core.servers import ServerCore
from nubis.compute.db.models import BlockDeviceMapping

_SNAPSHOTTABLE = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)
# What the image service keeps for itself; a user's metadata may not set these.
_RESERVED = {"id", "name", "status", "owner", "visibility", "disk_format", "container_format", "size", "checksum",
             "created_at", "updated_at", "locations", "direct_url", "file", "schema", "self", "tags", "protected",
             "os_hash_algo", "os_hash_value", "virtual_size"}


# Base-image properties a snapshot keeps.
_INHERITED_PREFIXES = ("hw_", "img_", "os_command_line", "os_distro", "os_type", "kernel_id", "ramdisk_id")


def _inherited(servers: ServerCore, ctx: RequestContext, image_ref: str) -> dict[str, Any]:
    try:
        base = servers._image(ctx, image_ref)
    except exceptions.NubisError:
        return {}  # the base image is gone: the snapshot stands on its own
    return {k: v for k, v in base.items() if k.startswith(_INHERITED_PREFIXES) and k not in _RESERVED}


def _checked_metadata(metadata: Any) -> dict[str, str]:
    metadata = metadata or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise exceptions.BadRequest("metadata must be an object of strings.")
    if _RESERVED & set(metadata):
        raise exceptions.BadRequest(f"metadata may not set {', '.join(sorted(_RESERVED & set(metadata)))}.")
    return metadata


class Snapshots:
    def __init__(self, servers: ServerCore) -> None:
        self.servers = servers

    def create(self, ctx: RequestContext, uuid: str, name: Any, metadata: Any) -> str:
        """Create the (queued) image and have the server's host fill it; returns the image id."""
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise exceptions.BadRequest("Invalid input for field/attribute name: createImage needs a name of 1-255 "
                                        "characters.")
        metadata = _checked_metadata(metadata)
        inst = self._snapshottable(ctx, uuid, "createImage")
        if self.servers.is_volume_backed(uuid):
            return self._volume_backed(ctx, inst, name.strip(), metadata)
        self.servers.agents.check_can_send("snapshot_instance")  # before the image record and the task state
        image_id = self._image_record(ctx, inst, name.strip(), metadata)
        self._begin(ctx, inst, "createImage", states.IMAGE_SNAPSHOT, image_id)
        self.servers.agents.snapshot_instance(ctx, inst.host, uuid, image_id)
        return image_id

    def backup(self, ctx: RequestContext, uuid: str, arg: Any) -> str:
        """A snapshot kept as one of the newest ``rotation`` backups of its ``backup_type``."""
        if not isinstance(arg, dict) or not {"name", "backup_type", "rotation"} <= set(arg):
            raise exceptions.BadRequest("createBackup needs name, backup_type and rotation.")
        name, backup_type, rotation = arg["name"], arg["backup_type"], arg["rotation"]
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise exceptions.BadRequest("Invalid input for field/attribute name: 1-255 characters are required.")
        if not isinstance(backup_type, str):  # any string, "" too (Nova's schema; the CLI's default type)
            raise exceptions.BadRequest("Invalid input for field/attribute backup_type: a string (e.g. daily) is "
                                        "required.")
        try:
            keep = int(rotation)
        except (TypeError, ValueError):
            raise exceptions.BadRequest(f"Invalid rotation {rotation!r}: a non-negative integer is required.") from None
        if keep < 0:  # 0 is Nova's too: the new backup is made and, being beyond the rotation, deleted
            raise exceptions.BadRequest(f"Invalid rotation {rotation!r}: a non-negative integer (how many backups of "
                                        "this type to keep) is required.")
        metadata = _checked_metadata(arg.get("metadata"))
        inst = self._snapshottable(ctx, uuid, "createBackup")
        self.servers.agents.check_can_send("snapshot_instance")
        image_id = self._image_record(ctx, inst, name.strip(), {**metadata, "backup_type": backup_type},
                                      image_type="backup")
        self._begin(ctx, inst, "createBackup", states.IMAGE_BACKUP, image_id)
        self.servers.agents.snapshot_instance(ctx, inst.host, uuid, image_id,
                                              rotation={"backup_type": backup_type, "keep": keep,
                                                        "owner": inst.project_id})
        return image_id

    def shelve(self, ctx: RequestContext, uuid: str) -> None:
        """Save the server's disk as an image, then free its host: it keeps its quota, not its resources."""
        inst = self._snapshottable(ctx, uuid, "shelve")
        self.servers.agents.check_can_send("shelve_instance")
        image_id = self._image_record(ctx, inst, f"{inst.name}-shelved", {"shelved_instance": uuid})
        self._begin(ctx, inst, "shelve", states.SHELVING, image_id)
        self.servers.instances.update(uuid, {"shelved_image_id": image_id})
        self.servers.agents.shelve_instance(ctx, inst.host, uuid, image_id)

    def unshelve(self, ctx: RequestContext, uuid: str, zone: str | None) -> None:
        s_ = self.servers
        inst, _ = s_.get(ctx, uuid)
        s_._check_lock(ctx, inst)
        if zone is not None and zone not in {z["zoneName"] for z in s_.services.availability_zones(False)}:
            raise exceptions.BadRequest(f"The requested availability zone is not available: {zone}")
        s_.conductor.check_can_send("unshelve_instance")
        if s_.has_volumes(uuid):  # its volumes reach the new guest with the spawn (compute agent RPC 1.4)
            s_.agents.require_version("1.4", BOOT_FROM_VOLUME)
        s_._start(ctx, inst, "unshelve", {"task_state": states.UNSHELVING}, (states.SHELVED_OFFLOADED,))
        s_.conductor.unshelve_instance(ctx, uuid, zone)

    def _snapshottable(self, ctx: RequestContext, uuid: str, verb: str) -> Any:
        s_ = self.servers
        inst, _ = s_.get(ctx, uuid)
        s_._check_lock(ctx, inst)
        if inst.vm_state not in _SNAPSHOTTABLE or inst.task_state is not None or not inst.host:
            where = f"task_state {inst.task_state}" if inst.task_state else f"vm_state {inst.vm_state}"
            raise exceptions.Conflict(f"Cannot '{verb}' instance {uuid} while it is in {where}")
        if verb == "createBackup" and s_.is_volume_backed(uuid):  # Nova refuses it for good: 400, not 409
            raise exceptions.BadRequest("Backup is not supported for volume-backed instances.")
        if verb != "createImage":
            s_.refuse_volume_backed(uuid, verb)
        if s_.images is None:
            raise exceptions.BadRequest("This cloud has no image service to save snapshots in.")
        return inst

    def _image_record(self, ctx: RequestContext, inst: Any, name: str, metadata: dict[str, str],
                      image_type: str = "snapshot") -> str:
        """A queued private image in the server's project, ready for the host to upload into."""
        s_ = self.servers
        assert s_.images is not None
        # The caller's metadata may override image_type (Nova merges it over its own properties).
        body = {"image_type": image_type, "instance_uuid": inst.uuid, "user_id": ctx.user_id, **metadata,
                "name": name, "disk_format": "raw", "container_format": "bare",
                "visibility": "private", "owner": inst.project_id, "min_disk": inst.root_gb, "min_ram": 0}
        if inst.image_ref:
            body["base_image_ref"] = inst.image_ref
            # The snapshot boots the way its base did (kernel, ramdisk, hw_* choices), as nova's do.
            body = {**_inherited(s_, ctx, inst.image_ref), **body}
        try:
            resp = s_.images.create(body)
        except ks_exc.ConnectionError as exc:
            raise exceptions.ServiceUnavailable(f"The image service cannot be reached: {exc}") from None
        if resp.status_code in (403, 413):
            raise exceptions.Forbidden(f"Quota exceeded for images: {resp.text[:300]}")
        if resp.status_code != 201:
            raise exceptions.BadRequest(f"The image service refused the snapshot image: {resp.status_code} "
                                        f"{resp.text[:300]}")
        return resp.json()["id"]

    def _volume_backed(self, ctx: RequestContext, inst: Any, name: str, metadata: dict[str, str]) -> str:
        """Nova's image of a volume-backed server: each of its volumes snapshotted in the volume service (forced:
        they are in use), and an active image of no data whose ``block_device_mapping`` property (BDM v2, as a
        JSON list) names those snapshots, so that booting the image makes volumes of them. Returns the image id.

        Raises ServiceUnavailable without a volume service; what the volume or image service refuses is undone
        (snapshots and image deleted) and answered as they answered it.
        """
        s_ = self.servers
        if s_.volumes is None:
            raise exceptions.ServiceUnavailable("This cloud has no volume service to snapshot the server's volumes in.")
        b = BlockDeviceMapping
        with s_.db.reader() as s:
            mapped = s.execute(sa.select(b.volume_id, b.boot_index, b.device_name, b.delete_on_termination, b.tag)
                               .where(b.instance_uuid == inst.uuid).order_by(b.created_at)).all()
        mapping: list[dict[str, Any]] = []
        try:
            for volume_id, boot_index, device_name, delete_on_termination, tag in mapped:
                volume = s_.volumes.get_volume(ctx, volume_id)
                snap = s_.volumes.create_snapshot(ctx, {"volume_id": volume_id, "force": True,
                                                        "name": f"snapshot for {name}",
                                                        "description": volume.get("description")})
                mapping.append({"source_type": "snapshot", "destination_type": "volume", "snapshot_id": snap["id"],
                                "volume_size": volume["size"], "boot_index": boot_index, "device_name": device_name,
                                "delete_on_termination": delete_on_termination, "tag": tag, "volume_id": None,
                                "image_id": None, "no_device": None, "disk_bus": None, "device_type": None,
                                "guest_format": None})
            properties = {"block_device_mapping": json.dumps(mapping), "bdm_v2": "True",
                          "root_device_name": ROOT_DEVICE}
            image_id = self._image_record(ctx, inst, name, {**metadata, **properties})
        except exceptions.NubisError:
            self._forget_snapshots(ctx, mapping)
            raise
        assert s_.images is not None
        # Glance activates an image only with data: a zero-length upload, as Nova's image API sends.
        resp = s_.images.upload(image_id, [b""])
        if resp.status_code != 204:
            s_.images.delete(image_id)
            self._forget_snapshots(ctx, mapping)
            raise exceptions.ServiceUnavailable(f"The image service refused the snapshot's (empty) data: "
                                                f"{resp.status_code} {resp.text[:300]}")
        return image_id

    def _forget_snapshots(self, ctx: RequestContext, mapping: list[dict[str, Any]]) -> None:
        assert self.servers.volumes is not None
        for item in mapping:
            try:
                self.servers.volumes.delete_snapshot(ctx, item["snapshot_id"])
            except exceptions.NubisError:
                pass  # still creating: the volume service's own cleanup is the operator's, as in Nova

    def _begin(self, ctx: RequestContext, inst: Any, verb: str, task_state: str, image_id: str) -> None:
        try:
            self.servers._start(ctx, inst, verb, {"task_state": task_state}, _SNAPSHOTTABLE)
        except exceptions.Conflict:
            assert self.servers.images is not None
            self.servers.images.delete(image_id)  # a concurrent action won
            raise

    def image_url(self, image_id: str) -> str:
        images = self.servers.images
        return images.image_url(image_id) if images is not None else image_path(image_id)
