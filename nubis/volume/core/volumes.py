"""Volumes: create (empty or from a snapshot), read, change, extend, metadata, attach state, delete.

The API's transaction records the intent (status ``creating``, ``extending``, ``deleting``) and the chosen host;
the host's manager does the storage work and records the outcome. Quotas are counted under the project's lock;
a host is chosen under its row lock (``hosts.pick``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.clients.image import ImageClient
from nubis.common.context import RequestContext
from nubis.common.db import dml, types
from nubis.common.db.engine import Database
from nubis.volume.core import groups, hosts, listing, messages, records
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.core.types import TypeStore
from nubis.volume.core.types import detail as type_detail
from nubis.volume.db.models import (
    Snapshot,
    Volume,
    VolumeAttachment,
    VolumeMetadata,
    VolumeService,
    VolumeType,
    VolumeTypeExtraSpec,
)
from nubis.volume.image_formats import IMAGE_FORMATS
from nubis.volume.manager.rpcapi import VolumeManagerAPI

DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
# Cinder's limit on metadata items per volume is a quota of its own; Nubis bounds it here.
MAX_METADATA = 128


GiB = 1024 ** 3


def _image_metadata(image: dict[str, Any]) -> dict[str, str]:
    """Cinder's volume_image_metadata: the image's identity and the properties a boot reads."""
    keep = ("disk_format", "container_format", "min_disk", "min_ram", "size", "checksum")
    out = {"image_id": image["id"], "image_name": image.get("name") or ""}
    out.update({k: str(image[k]) for k in keep if image.get(k) is not None})
    out.update({k: str(v) for k, v in image.items() if (k.startswith(("hw_", "os_")) or k in ("kernel_id", "ramdisk_id"))
                and isinstance(v, str)})
    return out


def _specs(s: Any, type_id: str) -> dict[str, str]:
    return dict(s.execute(sa.select(VolumeTypeExtraSpec.key, VolumeTypeExtraSpec.value)
                          .where(VolumeTypeExtraSpec.volume_type_id == type_id)).all())
def _image_properties(volume_image_metadata: dict[str, str]) -> dict[str, Any]:
    """What an image made from a volume keeps of the image the volume was made from (as Cinder): the boot
    properties (``hw_*``, ``os_*``, kernel and ramdisk) and ``min_ram``."""
    out: dict[str, Any] = {k: v for k, v in volume_image_metadata.items()
                           if k.startswith(("hw_", "os_")) or k in ("kernel_id", "ramdisk_id")}
    if str(volume_image_metadata.get("min_ram", "")).isdigit():
        out["min_ram"] = int(volume_image_metadata["min_ram"])
    return out


class VolumeStore:
    """Volumes of a project as dicts (``records.volume_to_dict``)."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, volume_types: TypeStore, quotas: QuotaStore,
                 manager: VolumeManagerAPI, images: ImageClient | None = None) -> None:
        self.conf = conf
        self.images = images
        self.db = db
        self.types = volume_types
        self.quotas = quotas
        self.manager = manager

    # -- reading -------------------------------------------------------------

    @staticmethod
    def _row(s: Any, ctx: RequestContext, volume_id: str) -> Volume:
        """The volume, if the caller's project owns it or the caller is an admin; 404 otherwise."""
        v = s.get(Volume, volume_id)
        if v is None or (v.project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Volume {volume_id} could not be found.")
        return v  # type: ignore[no-any-return]

    @staticmethod
    def _dict(s: Any, v: Volume) -> dict[str, Any]:
        t = s.get(VolumeType, v.volume_type_id)
        service = s.get(VolumeService, v.host) if v.host else None
        return {**records.volume_to_dict(v, t.name if t is not None else None),
                "backend": service.backend if service is not None else "unknown"}

    def get(self, ctx: RequestContext, volume_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self._dict(s, self._row(s, ctx, volume_id))

    def owner(self, volume_id: str) -> str | None:
        """The project owning ``volume_id`` (for the policy target), None if there is no such volume."""
        with self.db.reader() as s:
            v = s.get(Volume, volume_id)
            return v.project_id if v is not None else None

    def list(self, ctx: RequestContext, query: listing.ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """One page of volumes and whether more follow."""
        with self.db.reader() as s:
            found = listing.page(s, Volume, query, ctx.require_project_id(), self.conf.volume.osapi_max_limit)
            return [self._dict(s, v) for v in found.rows], found.more

    # -- creating ------------------------------------------------------------

    def _image(self, ctx: RequestContext, image_ref: str) -> dict[str, Any]:
        """The image a volume is made from, read as the caller (the image service's visibility rules decide)."""
        if self.images is None:
            raise exceptions.BadRequest("This cloud has no image service to create volumes from.")
        try:
            resp = self.images.show(image_ref, caller=ctx)
        except ks_exc.EndpointNotFound:
            raise exceptions.BadRequest("This cloud's catalog has no image service.") from None
        except ks_exc.ConnectionError as exc:
            raise exceptions.ServiceUnavailable(f"The image service cannot be reached: {exc}") from None
        if resp.status_code != 200:
            raise exceptions.BadRequest(f"Invalid image identifier or unable to access requested image "
                                        f"{image_ref}.")
        image = resp.json()
        if image.get("status") != "active":
            raise exceptions.BadRequest(f"Image {image_ref} is not active.")
        if image.get("disk_format") not in IMAGE_FORMATS:
            raise exceptions.BadRequest(f"Image {image_ref} has disk_format {image.get('disk_format')}; volumes "
                                        f"are made from {', '.join(sorted(IMAGE_FORMATS))} images.")
        return image  # type: ignore[no-any-return]

    def create(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        """A new volume (202: status creating). ``spec``: size (GiB), name, description, volume_type,
        availability_zone, snapshot_id or source_volid, metadata (validated by the API).

        Quota over → 413; unknown type or snapshot → 404; no host with room → the volume is recorded in
        ``error`` naming the reason (as Cinder's scheduler does), and nothing is cast.
        """
        snapshot_id = spec.get("snapshot_id")
        host = None
        image = self._image(ctx, spec["imageRef"]) if spec.get("imageRef") else None
        self.quotas.ensure_lock(ctx.require_project_id())
        snap_host: str | None = None
        source_host: str | None = None
        # What a volume made from another volume (or its snapshot) keeps of it, as Cinder: bootable and the
        # image metadata.
        inherited: Volume | None = None
        with self.db.writer() as s:
            vtype = self.types.resolve(s, spec.get("volume_type"), ctx.is_admin, ctx.project_id)
            group_id = spec.get("group_id")
            if group_id is not None:
                groups.check_member(s, ctx, group_id, vtype.id)
            size = spec.get("size")
            zone = spec.get("availability_zone")
            if snapshot_id is not None:
                snap = s.get(Snapshot, snapshot_id)
                if snap is None or (snap.project_id != ctx.project_id and not ctx.is_admin):
                    raise exceptions.NotFound(f"Snapshot {snapshot_id} could not be found.")
                if snap.status != "available":
                    raise exceptions.BadRequest(f"Invalid snapshot: Originating snapshot status must be "
                                                f"'available' (it is {snap.status}).")
                snap_host = snap.host
                size = size or snap.size
                if size < snap.size:
                    raise exceptions.BadRequest(f"Invalid input received: volume size {size} GiB must not be "
                                                f"smaller than the snapshot's size {snap.size} GiB.")
                source = s.get(Volume, snap.volume_id)
                zone = zone or (source.availability_zone if source is not None else None)
                inherited = source
            source_volid = spec.get("source_volid")
            if source_volid is not None:
                source = s.get(Volume, source_volid)
                if source is None or (source.project_id != ctx.project_id and not ctx.is_admin):
                    raise exceptions.NotFound(f"Volume {source_volid} could not be found.")
                if source.status not in ("available", "in-use"):
                    raise exceptions.BadRequest(f"Invalid volume: the source volume's status must be available or "
                                                f"in-use to clone it (it is {source.status}).")
                source_host = source.host
                inherited = source
                size = size or source.size
                if size < source.size:
                    raise exceptions.BadRequest(f"Invalid input received: volume size {size} GiB must not be "
                                                f"smaller than the source volume's size {source.size} GiB.")
                zone = zone or source.availability_zone
            if image is not None:
                needed = -(-max(int(image.get("virtual_size") or 0), int(image.get("size") or 0)) // GiB)
                needed = max(needed, int(image.get("min_disk") or 0), 1)
                size = size or needed
                if size < needed:
                    raise exceptions.BadRequest(f"Invalid input received: volume size {size} GiB is smaller "
                                                f"than the image needs ({needed} GiB).")
            if size is None:
                raise exceptions.BadRequest("Invalid input for field/attribute size: a size is required.")
            if size > self.conf.volume.max_volume_size_gb:
                raise exceptions.BadRequest(f"Invalid input for field/attribute size: {size} GiB is over the "
                                            f"largest volume ({self.conf.volume.max_volume_size_gb} GiB).")
            zone = zone or self.conf.volume.storage_availability_zone
            if zone not in hosts.zones(self.conf, s):
                raise exceptions.BadRequest(f"Availability zone '{zone}' is invalid.")
            self.quotas.check_volume_size(s, ctx.require_project_id(), size)
            self.quotas.check(s, ctx.require_project_id(), {"volumes": 1, "gigabytes": size}, vtype.name)
            v = Volume(id=types.new_uuid(), project_id=ctx.project_id, user_id=ctx.user_id, name=spec.get("name"),
                       description=spec.get("description"), size=size, status="creating",
                       availability_zone=zone, volume_type_id=vtype.id, snapshot_id=snapshot_id,
                       source_volid=source_volid, image_id=image["id"] if image else None,
                       image_metadata=_image_metadata(image) if image else None,
                       multiattach=False, bootable=image is not None, group_id=group_id)
            if inherited is not None:
                v.bootable = inherited.bootable
                v.image_metadata = dict(inherited.image_metadata) if inherited.image_metadata else None
            for key, value in (spec.get("metadata") or {}).items():
                v.metadata_items.append(VolumeMetadata(key=key, value=value))
            try:
                if snapshot_id is not None:
                    # The file backend copies locally: the new volume lives where its snapshot does.
                    host = snap_host
                elif source_volid is not None:
                    host = source_host
                else:
                    host = hosts.pick(self.conf, s, zone, size, _specs(s, vtype.id))
                v.host = host
            except hosts.NoValidBackend as e:
                v.status, v.error_message = "error", str(e)
                messages.record(s, ctx, "VOLUME", v.id, messages.SCHEDULE_ALLOCATE_VOLUME,
                                messages.NO_BACKEND_AVAILABLE, self.conf.volume.message_ttl)
            s.add(v)
            s.flush()
            created = self._dict(s, v)
        if host is not None:
            self.manager.create_volume(ctx, host, created["id"])
        return created

    # -- changing ------------------------------------------------------------

    def update(self, ctx: RequestContext, volume_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            for field in ("name", "description"):
                if field in changes:
                    setattr(v, field, changes[field])
            if "metadata" in changes:
                self._replace_metadata(v, changes["metadata"])
            v.updated_at = types.utcnow()
            return self._dict(s, v)

    def extend(self, ctx: RequestContext, volume_id: str, new_size: int, in_use: bool = False) -> None:
        """Grow an available volume, or with ``in_use`` (3.42) an attached one too (202; status extending; the
        manager tells compute once it grew). 400 unless larger; 413 over the gigabytes quota."""
        self.quotas.ensure_lock(self.owner(volume_id) or ctx.require_project_id())
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status != "available" and not (in_use and v.status == "in-use"):
                wanted = "available or in-use" if in_use else "available"
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be {wanted} to "
                                            f"extend, but current status is: {v.status}.")
            if new_size <= v.size:
                raise exceptions.BadRequest(f"Invalid input received: New size for extend must be greater than "
                                            f"current size. (current: {v.size}, extended: {new_size}).")
            if new_size > self.conf.volume.max_volume_size_gb:
                raise exceptions.BadRequest(f"Invalid input received: {new_size} GiB is over the largest "
                                            f"volume ({self.conf.volume.max_volume_size_gb} GiB).")
            self.quotas.check_volume_size(s, v.project_id, new_size)
            self.quotas.check(s, v.project_id, {"gigabytes": new_size - v.size},
                              self.quotas.type_name(s, v.volume_type_id))
            v.status, v.updated_at = "extending", types.utcnow()
            host = v.host
        assert host is not None
        self.manager.extend_volume(ctx, host, volume_id, new_size)

    def delete(self, ctx: RequestContext, volume_id: str, cascade: bool = False, force: bool = False) -> None:
        """Delete (202; status deleting). 400 when attached, busy, or with snapshots (unless ``cascade``).

        ``force`` (an admin's ``os-force_delete``) deletes whatever the status, as Cinder's: still not an
        attached volume nor one with snapshots. A create still under way on the host sees the delete when it
        ends and leaves it to go on (see the manager's ``create_volume``).
        """
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.attach_status == "attached" or any(a.attach_status == "attached" for a in v.attachments) or (
                    not force and any(a.attach_status != "detached" for a in v.attachments)):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is attached: detach it first.")
            if force:
                v.attachments.clear()  # reservations of a volume being force-deleted go with it
            elif v.status not in DELETABLE:
                raise exceptions.BadRequest(f"Invalid volume: Volume status must be available or error or "
                                            f"error_restoring or error_extending or error_managing and must not "
                                            f"be migrating, attached, belong to a group, have snapshots or be "
                                            f"disassociated from snapshots after volume transfer "
                                            f"(it is {v.status}).")
            if v.group_id is not None and not force:
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} belongs to group {v.group_id}: "
                                            f"remove it from the group (or delete the group) first.")
            snaps = list(s.scalars(sa.select(Snapshot).where(Snapshot.volume_id == volume_id)))
            if snaps and not cascade:
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} still has {len(snaps)} "
                                            "dependent snapshots.")
            if not force and any(sn.status not in ("available", "error") for sn in snaps):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} has snapshots in progress.")
            if v.host is None or v.provider_location is None and v.status == "error" and not snaps:
                # Never placed on a host (or failed before its storage existed): nothing to clean up there.
                s.delete(v)
                return
            v.status, v.updated_at = "deleting", types.utcnow()
            for sn in snaps:
                sn.status = "deleting"
            host = v.host
        self.manager.delete_volume(ctx, host, volume_id)

    def set_bootable(self, ctx: RequestContext, volume_id: str, bootable: bool) -> None:
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            v.bootable, v.updated_at = bootable, types.utcnow()

    def set_readonly(self, ctx: RequestContext, volume_id: str, readonly: bool) -> None:
        """Cinder's ``os-update_readonly_flag``: recorded as the ``readonly`` metadata item ("True"/"False"),
        where Cinder's API shows it too. 400 unless the volume is available or in-use."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status not in ("available", "in-use"):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is {v.status}: its read-only "
                                            f"flag cannot change.")
            self._replace_metadata(v, {**v.metadata_dict, "readonly": str(readonly)})
            v.updated_at = types.utcnow()

    def retype(self, ctx: RequestContext, volume_id: str, new_type: str, migration_policy: str | None) -> None:
        """Cinder's ``os-retype`` where no data moves: the volume's host satisfies the new type (its extra specs
        name no other backend), so the type changes in place. 400 when the status is not available or in-use,
        the type is the same, or the volume would have to migrate (not built); 413 when the volume (with its
        snapshots, which count against their volume's type) does not fit the new type's quotas."""
        self.quotas.ensure_lock(self.owner(volume_id) or ctx.require_project_id())
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status not in ("available", "in-use"):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be available or "
                                            f"in-use to retype, but current status is: {v.status}.")
            target = self.types.resolve(s, new_type, ctx.is_admin)
            if target.id == v.volume_type_id:
                raise exceptions.BadRequest(f"Invalid input received: volume {volume_id} already has type "
                                            f"{target.name}.")
            service = s.get(VolumeService, v.host) if v.host else None
            unmet = hosts.satisfies(service, _specs(s, target.id)) if service is not None else "a host"
            if unmet is not None:
                policy = migration_policy or "never"
                raise exceptions.BadRequest(
                    f"Invalid input received: the volume's host does not meet volume type {target.name} "
                    f"({unmet}); " + ("retyping with migration_policy never cannot move it." if policy == "never"
                                      else "moving volumes between hosts is not supported yet."))
            snaps = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Snapshot.size), 0))
                              .where(Snapshot.volume_id == v.id)).one()
            self.quotas.check(s, v.project_id, {f"volumes_{target.name}": 1,
                                                f"gigabytes_{target.name}": v.size + int(snaps[1]),
                                                f"snapshots_{target.name}": int(snaps[0])})
            v.volume_type_id, v.updated_at = target.id, types.utcnow()

    def reset_status(self, ctx: RequestContext, volume_id: str, status: str | None,
                     attach_status: str | None) -> None:
        """An admin's repair: set the status (and attach status) without touching the storage."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if status is not None:
                v.status = status
            if attach_status is not None:
                v.attach_status = attach_status
            v.updated_at = types.utcnow()

    # -- upload to an image (os-volume_upload_image) ---------------------------------------------------

    def upload_to_image(self, ctx: RequestContext, volume_id: str, image: dict[str, Any],
                        force: bool) -> dict[str, Any]:
        """Create image ``image`` (name, disk_format, container_format, visibility, protected) in the image
        service as the caller, mark the volume ``uploading`` and have its host's manager write its data there.

        400 unless the volume is available (or in-use with ``force``); the image service's refusal keeps its
        status (400, 403, 409, 413). Returns Cinder's ``os-volume_upload_image`` fields as a dict.
        """
        self.manager.check_can_send("upload_image")
        if self.images is None:
            raise exceptions.BadRequest("This cloud has no image service to upload volumes to.")
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if not (v.status == "available" or (v.status == "in-use" and force)):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be available or "
                                            f"in-use (with force) to upload it to an image, but it is {v.status}.")
            if v.host is None or v.provider_location is None:
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} has no data to upload.")
            previous, host = v.status, v.host
            # Conditional, so that of two concurrent uploads (or an upload and an attach) one wins.
            changed = dml.rowcount(s.execute(sa.update(Volume).where(Volume.id == v.id, Volume.status == previous)
                                             .values(status="uploading", updated_at=types.utcnow())
                                             .execution_options(synchronize_session=False)))
            if changed != 1:
                raise exceptions.Conflict(f"Volume {volume_id} changed while its upload was asked for: try again.")
            vtype = s.get(VolumeType, v.volume_type_id)
            type_info = {**type_detail(s, vtype), "created_at": vtype.created_at, "updated_at": vtype.updated_at,
                         "deleted": False, "deleted_at": None} if vtype is not None else None
            body = {**_image_properties(v.image_metadata or {}), **image}
            uploaded = {"id": v.id, "size": v.size, "display_description": v.description,
                        "volume_type": type_info}
        try:
            made = self._create_image(ctx, body)
        except Exception:
            with self.db.writer() as s:
                row = s.get(Volume, volume_id)
                if row is not None and row.status == "uploading":
                    row.status = previous
            raise
        self.manager.upload_image(ctx, host, volume_id, made["id"], image["disk_format"])
        return {**uploaded, "status": "uploading", "updated_at": types.utcnow(), "image_id": made["id"],
                "image_name": made.get("name", image["name"]), "disk_format": image["disk_format"],
                "container_format": image["container_format"], "visibility": made.get("visibility",
                                                                                      image["visibility"]),
                "protected": made.get("protected", image["protected"])}

    def _create_image(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/images`` as the caller; the image service's refusal becomes the same client error."""
        assert self.images is not None
        try:
            resp = self.images.create(body, caller=ctx)
        except ks_exc.EndpointNotFound:
            raise exceptions.BadRequest("This cloud's catalog has no image service.") from None
        except ks_exc.ConnectionError as exc:
            raise exceptions.ServiceUnavailable(f"The image service cannot be reached: {exc}") from None
        if resp.status_code == 201:
            return resp.json()  # type: ignore[no-any-return]
        reason = f"The image service refused the image ({resp.status_code}): {resp.text[:300]}"
        refusal = {400: exceptions.BadRequest, 403: exceptions.Forbidden, 409: exceptions.Conflict,
                   413: exceptions.RequestEntityTooLarge}.get(resp.status_code, exceptions.ServiceUnavailable)
        raise refusal(reason)

    # -- metadata ------------------------------------------------------------

    @staticmethod
    def _replace_metadata(v: Volume, items: dict[str, str]) -> None:
        if len(items) > MAX_METADATA:
            raise exceptions.RequestEntityTooLarge(f"Maximum number of metadata items ({MAX_METADATA}) exceeded.")
        v.metadata_items[:] = [VolumeMetadata(volume_id=v.id, key=k, value=val) for k, val in items.items()]

    def metadata(self, ctx: RequestContext, volume_id: str) -> dict[str, str]:
        with self.db.reader() as s:
            return self._row(s, ctx, volume_id).metadata_dict

    def set_metadata(self, ctx: RequestContext, volume_id: str, items: dict[str, str],
                     replace: bool) -> dict[str, str]:
        """Merge ``items`` into the metadata (POST), or make them the whole metadata (PUT)."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            merged = dict(items) if replace else {**v.metadata_dict, **items}
            self._replace_metadata(v, merged)
            v.updated_at = types.utcnow()
            return merged

    def delete_metadata_item(self, ctx: RequestContext, volume_id: str, key: str) -> None:
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            current = v.metadata_dict
            if key not in current:
                raise exceptions.NotFound(f"Metadata item was not found: {key}.")
            del current[key]
            self._replace_metadata(v, current)

    # -- image metadata (Cinder's volume_image_metadata: os-set/unset/show_image_metadata) ----------

    def image_metadata(self, ctx: RequestContext, volume_id: str) -> dict[str, str]:
        with self.db.reader() as s:
            return dict(self._row(s, ctx, volume_id).image_metadata or {})

    def set_image_metadata(self, ctx: RequestContext, volume_id: str, items: dict[str, str]) -> dict[str, str]:
        """Merge ``items`` into the volume's image metadata; returns the whole of it. 400 while the volume is
        in maintenance or uploading (as Cinder)."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status in ("maintenance", "uploading"):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is {v.status}: its image "
                                            f"metadata cannot change.")
            merged = {**(v.image_metadata or {}), **items}
            if len(merged) > MAX_METADATA:
                raise exceptions.RequestEntityTooLarge(f"Maximum number of metadata items ({MAX_METADATA}) "
                                                       f"exceeded.")
            v.image_metadata, v.updated_at = merged, types.utcnow()
            return merged

    def unset_image_metadata(self, ctx: RequestContext, volume_id: str, key: str) -> None:
        """Remove one image metadata item; 404 when the volume has no such item."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            current = dict(v.image_metadata or {})
            if key not in current:
                raise exceptions.NotFound(f"Glance metadata for volume {volume_id} with key {key} could not "
                                          f"be found.")
            del current[key]
            v.image_metadata, v.updated_at = current or None, types.utcnow()

    # -- attach state (os-reserve / os-attach / os-detach and the 3.27 attachments) --------------------

    def reserve(self, ctx: RequestContext, volume_id: str) -> None:
        """available → attaching; 400 for any other status (Cinder's os-reserve)."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status != "available":
                raise exceptions.BadRequest(f"Invalid volume: Volume status must be available to reserve, but "
                                            f"the current status is: {v.status}.")
            v.status = "attaching"

    def unreserve(self, ctx: RequestContext, volume_id: str) -> None:
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status == "attaching":
                v.status = "in-use" if v.attach_status == "attached" else "available"

    def attach(self, ctx: RequestContext, volume_id: str, instance_uuid: str | None, host_name: str | None,
               mountpoint: str, mode: str) -> dict[str, Any]:
        """Record the volume attached to a server (or host) at ``mountpoint``: status in-use.

        409 when it is already attached (no multiattach here); 400 when it is not available or reserved.
        """
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.attach_status == "attached":
                raise exceptions.Conflict(f"Volume {volume_id} is already attached (status {v.status}).")
            if v.status not in ("available", "attaching", "reserved"):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be available or "
                                            f"attaching to attach, but it is {v.status}.")
            a = VolumeAttachment(id=types.new_uuid(), volume_id=v.id, instance_uuid=instance_uuid,
                                 attached_host=host_name, mountpoint=mountpoint, attach_mode=mode,
                                 attach_status="attached")
            v.attachments.append(a)
            v.status, v.attach_status, v.updated_at = "in-use", "attached", types.utcnow()
            s.flush()
            return records.attachment_to_dict(a)

    def begin_detaching(self, ctx: RequestContext, volume_id: str) -> None:
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status != "in-use":
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} status must be in-use to "
                                            f"begin detaching, but it is {v.status}.")
            v.status = "detaching"

    def roll_detaching(self, ctx: RequestContext, volume_id: str) -> None:
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status == "detaching":
                v.status = "in-use"

    def detach(self, ctx: RequestContext, volume_id: str, attachment_id: str | None) -> None:
        """Record the volume detached (its one attachment, or ``attachment_id``): status available.

        As Cinder's manager, detaching a volume with no attachment at all just makes it available (a repeated
        detach succeeds); an ``attachment_id`` the volume does not have, while it has others, is a 400.
        """
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            if v.status == "maintenance":
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is in maintenance: it cannot "
                                            f"be detached now.")
            live = [a for a in v.attachments if a.attach_status == "attached"
                    and (attachment_id is None or a.id == attachment_id)]
            if not live and any(a.attach_status == "attached" for a in v.attachments):
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} is not attached"
                                            + (f" as {attachment_id}." if attachment_id else "."))
            for a in live:
                v.attachments.remove(a)
            if not any(a.attach_status == "attached" for a in v.attachments):
                # An extend under way keeps its status (the manager ends it available).
                v.status, v.attach_status = "extending" if v.status == "extending" else "available", "detached"
            v.updated_at = types.utcnow()

    def force_detach(self, ctx: RequestContext, volume_id: str, attachment_id: str | None) -> None:
        """An admin's ``os-force_detach``: remove the attachment (``attachment_id``, or every one), whatever its
        state or the volume's, and take the volume's export down when nothing connects to it any more. The
        volume becomes available once no attachment is left. 400 for an attachment the volume does not have."""
        with self.db.writer() as s:
            v = self._row(s, ctx, volume_id)
            gone = [a for a in v.attachments if attachment_id is None or a.id == attachment_id]
            if attachment_id is not None and not gone:
                raise exceptions.BadRequest(f"Invalid volume: Volume {volume_id} has no attachment "
                                            f"{attachment_id}.")
            connected = any(a.attach_status in ("attaching", "attached") or a.connection_info for a in gone)
            for a in gone:
                v.attachments.remove(a)
            if not v.attachments:
                v.status, v.attach_status = "available", "detached"
            elif not any(a.attach_status == "attached" for a in v.attachments):
                v.attach_status = "detached"
            v.updated_at = types.utcnow()
            host = v.host
        if connected and host is not None and self.manager.can_send_version("1.1"):
            self.manager.terminate_connection(ctx, host, volume_id)

    def summary(self, ctx: RequestContext, query: listing.ListQuery) -> dict[str, Any]:
        """Cinder's volume summary (3.12): count and GiB of the volumes ``query`` selects (its filters and
        projects; sort and pages do not apply), and each metadata key with its distinct values (3.36)."""
        with self.db.reader() as s:
            found = listing.select_all(s, Volume, query, ctx.require_project_id())
            metadata: dict[str, list[str]] = {}
            for v in found:
                for key, value in sorted(v.metadata_dict.items()):
                    if value not in metadata.setdefault(key, []):
                        metadata[key].append(value)
            return {"total_count": len(found), "total_size": sum(v.size for v in found), "metadata": metadata}
