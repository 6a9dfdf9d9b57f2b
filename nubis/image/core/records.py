"""Image records: what a client sees of an image, and who may see it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.image.db.models import Image, ImageMember, ImageProperty, ImageTag

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
STATUSES = ("queued", "saving", "active", "killed", "deleted", "pending_delete", "deactivated", "uploading",
            "importing")
CORE = ("id", "name", "status", "visibility", "owner", "disk_format", "container_format", "size", "virtual_size",
        "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "protected", "os_hidden",
        "created_at", "updated_at")
READ_ONLY = ("id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "created_at",
             "updated_at", "self", "file", "schema", "direct_url", "locations", "stores")
RESERVED_PREFIX = "os_glance"
# What an image shows of its import: the task running it, and why the last one failed.
IMPORT_TASK_PROPERTY = "os_glance_import_task"
FAILED_IMPORT_PROPERTY = "os_glance_failed_import"
# Names Glance keeps for itself (its database columns).
RESERVED = ("location", "deleted", "deleted_at")


def iso(ts: datetime.datetime | None) -> str | None:
    return ts.replace(microsecond=0).isoformat() + "Z" if ts else None


def to_dict(image: Image, properties: dict[str, str], tags: Iterable[str]) -> dict[str, Any]:
    body: dict[str, Any] = {key: getattr(image, key) for key in CORE}
    body["created_at"], body["updated_at"] = iso(image.created_at), iso(image.updated_at)
    body.update(properties)
    body["tags"] = sorted(tags)
    body["self"] = f"/v2/images/{image.id}"
    body["file"] = f"/v2/images/{image.id}/file"
    body["schema"] = "/v2/schemas/image"
    if image.location:  # the one store /v2/info/stores lists; Glance names the stores that hold the data
        body["stores"] = "file"
    return body


def load(session: orm.Session, images: list[Image]) -> list[dict[str, Any]]:
    """Bodies for ``images`` with their properties and tags, in two queries."""
    ids = [i.id for i in images]
    props: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for image_id, name, value in session.execute(sa.select(
                ImageProperty.image_id, ImageProperty.name, ImageProperty.value).where(ImageProperty.image_id.in_(ids))):
            props[image_id][name] = value
        for image_id, value in session.execute(sa.select(ImageTag.image_id, ImageTag.value).where(
                ImageTag.image_id.in_(ids))):
            tags[image_id].append(value)
    return [to_dict(i, props[i.id], tags[i.id]) for i in images]


def is_admin(ctx: RequestContext) -> bool:
    """A cloud admin: the handler derived ``ctx.is_admin`` from ``context_is_admin`` (the admin role on a
    project or the system, never on just a domain)."""
    return bool(ctx.is_admin)


def visible_clause(ctx: RequestContext) -> sa.ColumnElement[bool]:
    """Images ``ctx`` may see at all (any member status)."""
    if is_admin(ctx):
        return sa.true()
    member_of = sa.select(ImageMember.image_id).where(ImageMember.member == ctx.project_id)
    return sa.or_(Image.visibility.in_(("public", "community")), Image.owner == ctx.project_id,
                  sa.and_(Image.visibility == "shared", Image.id.in_(member_of)))


def get_visible(session: orm.Session, ctx: RequestContext, image_id: str) -> Image:
    image = session.scalar(sa.select(Image).where(Image.id == image_id, Image.status != "deleted",
                                                  visible_clause(ctx)))
    if image is None:
        raise exceptions.NotFound(f"No image found with ID {image_id}")
    return image


def properties(session: orm.Session, image_id: str) -> dict[str, str]:
    return dict(session.execute(sa.select(ImageProperty.name, ImageProperty.value).where(
        ImageProperty.image_id == image_id)).all())


def body(session: orm.Session, image: Image) -> dict[str, Any]:
    return load(session, [image])[0]


def set_property(session: orm.Session, image_id: str, name: str, value: str | None) -> None:
    row = session.get(ImageProperty, (image_id, name))
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(ImageProperty(image_id=image_id, name=name, value=value))
    else:
        row.value = value
