"""Nova's image proxy (``/v2.1/images``, deprecated; removed at microversion 2.36) over the image service.

Every call goes to the image service *as the caller*, so its visibility rules (public, shared, community,
own) and its policy decide, as for the caller's own Glance calls. Images come back in Nova's shape (see
``image_view``); their "metadata" is the image's additional properties. Nova's filters on the list
(``name``, ``status``, ``server``, ``type``, ``minRam``, ``minDisk``, ``changes-since``) are applied here
over the images the caller can see, at most ``MAX_SCANNED`` of them.
"""

from __future__ import annotations

import builtins
import datetime
import functools
from collections.abc import Callable, Mapping
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.clients.image import ImageClient
from nubis.common.context import RequestContext
from nubis.compute.core import timestamps

# Glance's own fields: everything else on an image is a property, Nova's image "metadata".
CORE_FIELDS = frozenset({
    "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo", "os_hash_value", "owner",
    "size", "virtual_size", "min_ram", "min_disk", "created_at", "updated_at", "tags", "self", "file", "schema",
    "disk_format", "container_format", "direct_url", "locations", "os_hidden", "stores"})
# Nova's mapping of Glance statuses to its own, and the progress it reports for each.
STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "uploading": "SAVING",
          "importing": "SAVING", "deleted": "DELETED", "pending_delete": "DELETED", "killed": "ERROR"}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
# The most images one list request reads from the image service to filter (Nova's [api] max_limit).
MAX_SCANNED = 1000
# Nova's default maxImageMeta quota: the most properties ("metadata items") an image may hold.
MAX_IMAGE_META = 128


class ImageProxy:
    """The ``/images`` proxy calls, each one made with the caller's credentials."""

    def __init__(self, conf: cfg.ConfigOpts, images: ImageClient | None) -> None:
        self.conf = conf
        self.images = images

    def _call(self, ctx: RequestContext, call: str, *args: Any) -> Any:
        """``ImageClient.<call>(*args)`` as the caller; 404 without an image service, 503 when unreachable."""
        if self.images is None:
            raise exceptions.NotFound("This cloud has no image service.")
        try:
            return getattr(self.images, call)(*args, caller=ctx)
        except (ks_exc.EndpointNotFound, ks_exc.ConnectionError) as exc:
            raise exceptions.ServiceUnavailable(f"The image service cannot be reached: {exc}") from None

    def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        """The Glance record of one image the caller can see; 404 "Image not found." otherwise."""
        resp = self._call(ctx, "show", image_id)
        if resp.status_code != 200:
            raise exceptions.NotFound("Image not found.")
        return resp.json()

    def list(self, ctx: RequestContext, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        """The images the caller can see that match Nova's ``filters``, newest first, after ``marker``,
        at most ``limit`` (400 for a bad ``limit``, ``minRam``, ``minDisk`` or ``changes-since``; 400 for an
        unknown ``marker``, as Nova)."""
        keep = _filters(filters)
        found: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 200}
        while len(found) < MAX_SCANNED:
            resp = self._call(ctx, "list", query)
            if resp.status_code != 200:
                raise exceptions.ServiceUnavailable(f"The image service answered {resp.status_code}.")
            page = resp.json().get("images", [])
            found.extend(page)
            if not page or not resp.json().get("next"):
                break
            query["marker"] = page[-1]["id"]
        images = [i for i in found[:MAX_SCANNED] if all(f(i) for f in keep)]
        marker = filters.get("marker")
        if marker is not None:
            ids = [i["id"] for i in images]
            if marker not in ids:
                raise exceptions.BadRequest(f"marker [{marker[:64]}] not found")
            images = images[ids.index(marker) + 1:]
        if "limit" in filters:
            limit = filters["limit"]
            if not limit.isdigit():
                raise exceptions.BadRequest(f"Invalid input for field/attribute limit. Value: {limit[:32]!r}.")
            images = images[:int(limit)]
        return images

    def delete(self, ctx: RequestContext, image_id: str) -> None:
        """Delete through the image service: 404 if the caller cannot see it, 403 if protected or not theirs."""
        resp = self._call(ctx, "delete", image_id)
        if resp.status_code == 404:
            raise exceptions.NotFound("Image not found.")
        if resp.status_code in (403, 409):
            raise exceptions.Forbidden(f"You are not allowed to delete the image: {resp.text[:200]}")
        if resp.status_code >= 300:
            raise exceptions.ServiceUnavailable(f"The image service answered {resp.status_code}.")

    def set_properties(self, ctx: RequestContext, image_id: str, values: Mapping[str, str],
                       purge: bool) -> dict[str, str]:
        """Add or change ``values`` among the image's properties (dropping the others when ``purge``), through
        Glance's JSON patch; the properties after. 403 above ``MAX_IMAGE_META`` (Nova's quota), 404 when the
        image is not the caller's to see."""
        image = self.get(ctx, image_id)
        have = properties(image)
        after = dict(values) if purge else {**have, **values}
        if len(after) > MAX_IMAGE_META:
            raise exceptions.Forbidden(f"Quota exceeded for metadata_items: at most {MAX_IMAGE_META} per image.")
        ops = [{"op": "remove", "path": f"/{_pointer(k)}"} for k in have if k not in after]
        ops += [{"op": "add", "path": f"/{_pointer(k)}", "value": v} for k, v in after.items() if have.get(k) != v]
        if not ops:
            return have
        return properties(self._patch(ctx, image_id, ops))

    def delete_property(self, ctx: RequestContext, image_id: str, key: str) -> None:
        """Remove one property; 404 when the image has no such property."""
        if key not in properties(self.get(ctx, image_id)):
            raise exceptions.NotFound(f"Image {image_id} has no metadata with key {key[:255]}.")
        self._patch(ctx, image_id, [{"op": "remove", "path": f"/{_pointer(key)}"}])

    def _patch(self, ctx: RequestContext, image_id: str, ops: builtins.list[dict[str, Any]]) -> dict[str, Any]:
        resp = self._call(ctx, "update", image_id, ops)
        if resp.status_code == 404:
            raise exceptions.NotFound("Image not found.")
        if resp.status_code == 403:
            raise exceptions.Forbidden(f"Not allowed to change the image's metadata: {resp.text[:200]}")
        if resp.status_code == 413:
            raise exceptions.Forbidden(f"Quota exceeded for metadata_items: {resp.text[:200]}")
        if resp.status_code >= 300:
            raise exceptions.BadRequest(f"The image service refused the change: {resp.text[:200]}")
        return resp.json()


def properties(image: Mapping[str, Any]) -> dict[str, str]:
    """An image's additional properties (Nova's image "metadata")."""
    return {k: v for k, v in image.items() if k not in CORE_FIELDS}


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _at_least(field: str, least: int, image: dict[str, Any]) -> bool:
    return int(image.get(field) or 0) >= least


def _filters(params: Mapping[str, str]) -> list[Callable[[dict[str, Any]], bool]]:
    """Nova's list filters as predicates over Glance records (400 for a value of the wrong kind)."""
    keep: list[Callable[[dict[str, Any]], bool]] = []
    if "name" in params:
        keep.append(lambda i: i.get("name") == params["name"])
    if "status" in params:
        wanted = params["status"].upper()
        keep.append(lambda i: STATUS.get(i.get("status", ""), "UNKNOWN") == wanted
                    or str(i.get("status", "")).upper() == wanted)
    if "server" in params:
        server = params["server"].rsplit("/", 1)[-1]  # a server's id or its link, as Nova takes either
        keep.append(lambda i: i.get("instance_uuid") == server)
    if "type" in params:
        keep.append(lambda i: i.get("image_type") == params["type"])
    for param, field in (("minRam", "min_ram"), ("minDisk", "min_disk")):
        if param in params:
            value = params[param]
            if not value.isdigit():
                raise exceptions.BadRequest(f"Invalid input for field/attribute {param}. Value: {value[:32]!r}.")
            keep.append(functools.partial(_at_least, field, int(value)))
    if "changes-since" in params:
        since = timestamps.parse(params["changes-since"], "changes-since")
        keep.append(lambda i: _when(i.get("updated_at")) >= since)
    return keep


def _when(value: Any) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(datetime.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
