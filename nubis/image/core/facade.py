"""The image service's logic: lifecycle, sharing, quotas, and data in and out of the store."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, BinaryIO

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common import policy as nubis_policy
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.image import inspector
from nubis.image.core import data, listing, patch, pipeline, records
from nubis.image.core.cache import ImageCache
from nubis.image.core.metadefs.catalog import MetadefCatalog
from nubis.image.core.tasks import TaskRecords
from nubis.image.db.models import Image, ImageMember, ImageProperty, ImageTag
from nubis.image.store import FilesystemStore, StoreFull

LOG = logging.getLogger(__name__)

CREATE_FIELDS = {"id", "name", "visibility", "protected", "os_hidden", "min_disk", "min_ram", "disk_format",
                 "container_format", "tags", "owner"}


class ImageCore:
    def __init__(self, conf: cfg.ConfigOpts, db: Database, policy: nubis_policy.Policy, store: FilesystemStore,
                 staging: FilesystemStore, cache: ImageCache | None = None) -> None:
        self.conf = conf
        self.db = db
        self.policy = policy  # for the handlers, which authorize; the core never checks policy
        self.store = store
        self.staging = staging
        # The metadata definitions catalog (``/v2/metadefs``), in the same database.
        self.metadefs = MetadefCatalog(db, conf.image.api_limit_max)
        # Tasks (``/v2/tasks``, an image's import tasks) and this node's image cache (``/v2/cache``).
        self.tasks = TaskRecords(conf, db)
        self.cache = cache

    @staticmethod
    def check_custom_names(body: Mapping[str, Any]) -> None:
        """The attributes of a new image that no client may set: read-only and reserved names.

        :raises Forbidden: naming the attribute.
        """
        for name in body:
            if name in CREATE_FIELDS:
                continue
            if name in records.READ_ONLY:
                raise exceptions.Forbidden(f"Attribute '{name}' is read-only.")
            if name in records.RESERVED or name.startswith(records.RESERVED_PREFIX):
                raise exceptions.Forbidden(f"Attribute '{name}' is reserved.")

    # -- records ---------------------------------------------------------------------------------------

    def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
        core = {k: v for k, v in body.items() if k in CREATE_FIELDS}
        custom = {k: v for k, v in body.items() if k not in CREATE_FIELDS}
        self.check_custom_names(body)
        tags = set(core.get("tags") or [])
        self._check_item_quotas(len(tags), len(custom))
        visibility = core.get("visibility", "shared")
        owner = core.get("owner") or ctx.project_id
        with self.db.writer() as s:
            self._check_count_quota(s, owner)
            image_id = core.get("id") or types.new_uuid()
            if s.get(Image, image_id) is not None:
                raise exceptions.Conflict(f"An image with identifier {image_id} already exists")
            now = types.utcnow()
            image = Image(id=image_id, name=core.get("name"), status="queued", visibility=visibility, owner=owner,
                          disk_format=core.get("disk_format"), container_format=core.get("container_format"),
                          min_disk=core.get("min_disk", 0), min_ram=core.get("min_ram", 0),
                          protected=core.get("protected", False), os_hidden=core.get("os_hidden", False),
                          created_at=now, updated_at=now)
            s.add(image)
            for name, value in custom.items():
                s.add(ImageProperty(image_id=image_id, name=name, value=value))
            for tag in tags:
                s.add(ImageTag(image_id=image_id, value=tag))
            s.flush()
            return records.body(s, image)

    def _check_item_quotas(self, tags: int, properties: int, properties_before: int = 0) -> None:
        """Glance's per-image quotas on the number of tags and custom properties an image would have
        (``properties_before``: how many it has now, so an image over the quota can still lose some).

        :raises RequestEntityTooLarge: over ``image_tag_quota`` or ``image_property_quota``.
        """
        tag_quota, property_quota = self.conf.image.image_tag_quota, self.conf.image.image_property_quota
        if 0 <= tag_quota < tags:
            raise exceptions.RequestEntityTooLarge(
                f"Attempted: {tags}, Maximum: {tag_quota}: an image may have at most {tag_quota} tags.")
        if 0 <= property_quota < properties and properties > properties_before:
            raise exceptions.RequestEntityTooLarge(
                f"Attempted: {properties}, Maximum: {property_quota}: an image may have at most "
                f"{property_quota} properties.")

    def _check_count_quota(self, session: Any, owner: str | None) -> None:
        quota = self.conf.image.image_count_quota
        if quota:
            count = session.scalar(sa.select(sa.func.count()).select_from(Image).where(
                Image.owner == owner, Image.status != "deleted"))
            if count >= quota:
                raise exceptions.RequestEntityTooLarge(
                    f"Project {owner} is over its image count quota: {count} of {quota} images exist.")

    def show(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return records.body(s, records.get_visible(s, ctx, image_id))

    def owner_of(self, ctx: RequestContext, image_id: str) -> str | None:
        """The owning project of an image ``ctx`` can see: the target the handlers authorize against.

        :raises NotFound: no such image, or not visible to ``ctx``.
        """
        with self.db.reader() as s:
            return records.get_visible(s, ctx, image_id).owner

    def list_images(self, ctx: RequestContext, params: Mapping[str, str], tags: list[str], sort_keys: list[str],
                    sort_dirs: list[str]) -> listing.Page:
        """One page of the images ``ctx`` can see (see ``listing.list_images`` for the parameters)."""
        opts = self.conf.image
        with self.db.reader() as s:
            return listing.list_images(s, ctx, params, tags, sort_keys, sort_dirs, opts.limit_param_default,
                                       opts.api_limit_max)

    def _get_for_change(self, s: Any, ctx: RequestContext, image_id: str) -> Image:
        # Who may change it was decided by the handler (image:modify_image against its owner).
        return records.get_visible(s, ctx, image_id)

    def update(self, ctx: RequestContext, image_id: str, changes: list[patch.Change]) -> dict[str, Any]:
        """Apply validated ``changes`` (see ``patch.parse``); the image's new body."""
        with self.db.writer() as s:
            image = self._get_for_change(s, ctx, image_id)
            current = records.body(s, image)

            def check(name: str, value: Any) -> None:
                self._check_change(ctx, image, name, value)

            new = patch.apply(current, changes, check)  # who may make each change: the handler checked
            core_keys = set(records.CORE) | {"tags", "self", "file", "schema"}
            self._check_item_quotas(len(set(new["tags"])), len(set(new) - core_keys), len(set(current) - core_keys))
            for name in patch.MUTABLE_CORE - {"tags"}:
                if new.get(name) != current.get(name):
                    setattr(image, name, new[name])
            if set(new["tags"]) != set(current["tags"]):
                s.execute(sa.delete(ImageTag).where(ImageTag.image_id == image.id))
                for tag in set(new["tags"]):
                    s.add(ImageTag(image_id=image.id, value=tag))
            for name in (set(current) | set(new)) - core_keys:
                if current.get(name) != new.get(name):
                    records.set_property(s, image.id, name, new.get(name))
            image.updated_at = types.utcnow()
            s.flush()
            return records.body(s, image)

    def _check_change(self, ctx: RequestContext, image: Image, name: str, value: Any) -> None:
        """When a change may be made (who may make it the handler decided; the values themselves are
        validated against the schema before)."""
        if name in ("disk_format", "container_format") and image.status != "queued":
            raise exceptions.Forbidden(f"Attribute {name} can be changed only while the image is queued.")

    def delete(self, ctx: RequestContext, image_id: str) -> None:
        with self.db.writer() as s:
            image = self._get_for_change(s, ctx, image_id)
            if image.protected:
                raise exceptions.Forbidden(f"Image {image_id} is protected and cannot be deleted.")
            location = image.location
            s.delete(image)
        if location:
            self.store.delete(location)
        self.staging.delete(image_id)
        if self.cache is not None:
            self.cache.forget(image_id)

    def set_active(self, ctx: RequestContext, image_id: str, active: bool) -> None:
        with self.db.writer() as s:
            image = self._get_for_change(s, ctx, image_id)
            if active and image.status in ("deactivated", "active"):
                image.status = "active"
            elif not active and image.status in ("active", "deactivated"):
                image.status = "deactivated"
            else:
                raise exceptions.Conflict(f"Image {image_id} is {image.status}; only active images can be "
                                          "deactivated and only deactivated ones reactivated.")
            image.updated_at = types.utcnow()

    def tag(self, ctx: RequestContext, image_id: str, tag: str, add: bool) -> None:
        """Add or remove one tag (a valid tag: see the handler); adding past the tag quota is 413."""
        with self.db.writer() as s:
            image = self._get_for_change(s, ctx, image_id)
            row = s.get(ImageTag, (image.id, tag))
            if add and row is None:
                count = s.scalar(sa.select(sa.func.count()).select_from(ImageTag).where(ImageTag.image_id == image.id)) or 0
                self._check_item_quotas(count + 1, 0)
                s.add(ImageTag(image_id=image.id, value=tag))
            elif not add:
                if row is None:
                    raise exceptions.NotFound(f"Tag {tag} not found on image {image_id}")
                s.delete(row)
            image.updated_at = types.utcnow()

    # -- members -------------------------------------------------------------------------------------

    @staticmethod
    def member_dict(m: ImageMember) -> dict[str, Any]:
        return {"image_id": m.image_id, "member_id": m.member, "status": m.status,
                "created_at": records.iso(m.created_at), "updated_at": records.iso(m.updated_at),
                "schema": "/v2/schemas/member"}

    def list_members(self, ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            image = records.get_visible(s, ctx, image_id)
            q = sa.select(ImageMember).where(ImageMember.image_id == image.id).order_by(ImageMember.created_at)
            if not (ctx.is_admin or image.owner == ctx.project_id):
                q = q.where(ImageMember.member == ctx.project_id)
            return [self.member_dict(m) for m in s.scalars(q)]

    def get_member(self, ctx: RequestContext, image_id: str, member: str) -> dict[str, Any]:
        for m in self.list_members(ctx, image_id):
            if m["member_id"] == member:
                return m
        raise exceptions.NotFound(f"Project {member} is not a member of image {image_id}")

    def add_member(self, ctx: RequestContext, image_id: str, member: str) -> dict[str, Any]:
        with self.db.writer() as s:
            image = records.get_visible(s, ctx, image_id)
            if image.visibility != "shared":
                raise exceptions.Forbidden(f"Only shared images have members; image {image_id} is {image.visibility}.")
            if s.get(ImageMember, (image.id, member)) is not None:
                raise exceptions.Conflict(f"Project {member} is already a member of image {image_id}")
            quota = self.conf.image.image_member_quota
            count = s.scalar(sa.select(sa.func.count()).select_from(ImageMember).where(
                ImageMember.image_id == image.id)) or 0
            if 0 <= quota <= count:
                raise exceptions.RequestEntityTooLarge(
                    f"Attempted: {count + 1}, Maximum: {quota}: an image may be shared with at most {quota} projects.")
            now = types.utcnow()
            row = ImageMember(image_id=image.id, member=member, status="pending", created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return self.member_dict(row)

    def update_member(self, ctx: RequestContext, image_id: str, member: str, status: str) -> dict[str, Any]:
        if status not in ("pending", "accepted", "rejected"):
            raise exceptions.BadRequest(f"Invalid member status {status!r}: use pending, accepted or rejected")
        with self.db.writer() as s:
            image = records.get_visible(s, ctx, image_id)
            row = s.get(ImageMember, (image.id, member))
            if row is None:
                raise exceptions.NotFound(f"Project {member} is not a member of image {image_id}")
            row.status, row.updated_at = status, types.utcnow()
            return self.member_dict(row)

    def remove_member(self, ctx: RequestContext, image_id: str, member: str) -> None:
        with self.db.writer() as s:
            image = records.get_visible(s, ctx, image_id)
            row = s.get(ImageMember, (image.id, member))
            if row is None:
                raise exceptions.NotFound(f"Project {member} is not a member of image {image_id}")
            s.delete(row)

    # -- data ------------------------------------------------------------------------------------------

    def _bytes_left(self, session: Any, owner: str | None) -> int:
        quota = self.conf.image.user_storage_quota
        cap = self.conf.image.image_size_cap
        if not quota:
            return int(cap)
        used = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Image.size), 0)).where(
            Image.owner == owner, Image.status != "deleted")) or 0
        return int(min(cap, quota - used))

    def begin_write(self, ctx: RequestContext, image_id: str, from_states: tuple[str, ...], to_state: str,
                    declared: int | None) -> tuple[int, str | None]:
        """Move the image into its writing state; returns (bytes it may take, owner)."""
        with self.db.writer() as s:
            image = self._get_for_change(s, ctx, image_id)
            if image.status not in from_states:
                raise exceptions.Conflict(f"Image {image_id} is {image.status}; data can be uploaded only to a "
                                          f"{' or '.join(from_states)} image.")
            if not image.disk_format or not image.container_format:
                raise exceptions.BadRequest("Set disk_format and container_format before uploading data.")
            allowed = self._bytes_left(s, image.owner)
            if declared is not None and declared > allowed:
                raise exceptions.RequestEntityTooLarge(
                    f"The image's {declared} bytes exceed what project {image.owner} may still store ({allowed}).")
            image.status, image.updated_at = to_state, types.utcnow()
            return allowed, image.owner

    def _finish(self, image_id: str, status: str, **values: Any) -> None:
        with self.db.writer() as s:
            image = s.get(Image, image_id)
            if image is not None:
                image.status, image.updated_at = status, types.utcnow()
                for key, value in values.items():
                    setattr(image, key, value)

    def content_inspector(self, image_id: str) -> inspector.Inspector:
        """An inspector for data uploaded to ``image_id``, checking it against the image's disk_format."""
        with self.db.reader() as s:
            image = s.get(Image, image_id)
            disk_format = image.disk_format if image else None
        opts = self.conf.image
        return inspector.Inspector(disk_format, opts.require_image_format_match, opts.vmdk_allowed_types)

    def write_data(self, image_id: str, fill: pipeline.Fill, allowed: int, final_status: str = "active",
                   undo_status: str = "queued", expected_md5: str | None = None) -> None:
        """Pump ``fill`` (see :mod:`nubis.image.core.data`) into the store and mark the image ``final_status``;
        on any failure put it back to ``undo_status`` with nothing stored.

        MD5 (``checksum``), the ``os_hash_algo`` digest and the store write
        run side by side on fixed buffers (:func:`pipeline.run`); the size
        cap and the format inspection run on the reading thread, so a
        refused piece never reaches the store.
        """
        digest = data.Digest(multihash=hashlib.new(self.conf.image.hashing_algorithm))
        checker = self.content_inspector(image_id)

        def admit(piece: memoryview) -> None:
            digest.size += len(piece)
            if digest.size > allowed:
                raise exceptions.RequestEntityTooLarge(
                    f"The upload reached {digest.size} bytes, over the {allowed} bytes this image may take "
                    "(image size cap or the project's storage quota).")
            checker.feed(piece)

        try:
            with self.store.writer(image_id) as write:
                pipeline.run(fill, (digest.md5.update, digest.multihash.update, write), on_piece=admit)
                checker.finish()
            if expected_md5 and expected_md5 != digest.md5.hexdigest():
                self.store.delete(image_id)
                raise exceptions.BadRequest(f"The data's MD5 {digest.md5.hexdigest()} does not match the "
                                            f"Content-MD5 {expected_md5} the client sent.")
        except StoreFull as exc:
            self._finish(image_id, undo_status)
            raise exceptions.RequestEntityTooLarge(f"{exc}; the upload was discarded.") from None
        except BaseException:
            self._finish(image_id, undo_status)
            raise
        self._finish(image_id, final_status, size=digest.size, checksum=digest.md5.hexdigest(),
                     os_hash_algo=self.conf.image.hashing_algorithm, os_hash_value=digest.multihash.hexdigest(),
                     virtual_size=checker.virtual_size, location=image_id)
        with self.db.reader() as s:
            if s.get(Image, image_id) is None:  # deleted while uploading: drop the data too
                self.store.delete(image_id)

    def upload(self, ctx: RequestContext, image_id: str, stream: BinaryIO, length: int | None,
               content_md5: str | None) -> None:
        allowed, _ = self.begin_write(ctx, image_id, ("queued",), "saving", length)
        self.write_data(image_id, data.stream_filler(stream, length), allowed, expected_md5=content_md5)
        LOG.info("image %s uploaded", image_id)

    def download(self, ctx: RequestContext, image_id: str, range_header: str | None) -> dict[str, Any]:
        with self.db.reader() as s:
            image = records.get_visible(s, ctx, image_id)
            if image.status == "deactivated" and not ctx.is_admin:
                raise exceptions.Forbidden(f"Image {image_id} is deactivated; its data cannot be downloaded.")
            if image.location is None or image.size is None:
                return {"empty": True}
            size, checksum, location = image.size, image.checksum, image.location
        window = data.parse_range(range_header, size)
        offset, length = window if window else (0, size)
        cached = self.cache.open(image_id, size, offset, length) if self.cache is not None else None
        return {"empty": False, "chunks": cached if cached is not None else self.store.open(location, offset, length),
                "size": size, "checksum": checksum, "range": window}

    # -- the image cache of this node (/v2/cache) ---------------------------------------------------------

    def _cache(self) -> ImageCache:
        if self.cache is None:
            raise exceptions.NotFound("Caching via API is not supported at this site.")
        return self.cache

    def cache_state(self) -> dict[str, Any]:
        """``{"cached_images": [...], "queued_images": [...]}`` of this node (see ``ImageCache.state``).

        :raises NotFound: this service has no cache.
        """
        return self._cache().state()

    def cache_queue(self, ctx: RequestContext, image_id: str) -> None:
        """Queue an active image ``ctx`` can see for caching on this node; the prefetcher copies it at once.

        :raises NotFound: no such image visible to ``ctx``.
        :raises BadRequest: the image is not active.
        """
        cache = self._cache()
        with self.db.reader() as s:
            image = records.get_visible(s, ctx, image_id)
            if image.status != "active" or not image.location:
                raise exceptions.BadRequest(f"Only images with status active can be targeted for queueing; "
                                            f"image {image_id} is {image.status}.")
        cache.queue(image_id)

    def cache_delete(self, ctx: RequestContext, image_id: str) -> None:
        """Drop an image from this node's cache and queue.

        :raises NotFound: the image is neither visible to ``ctx`` nor cached or queued here.
        """
        cache = self._cache()
        if not cache.forget(image_id):
            with self.db.reader() as s:
                records.get_visible(s, ctx, image_id)

    def cache_clear(self, target: str) -> None:
        """Empty this node's cache (``target`` ``cache``), its queue (``queue``) or both (``both``)."""
        self._cache().clear(cached=target in ("cache", "both"), queued=target in ("queue", "both"))
