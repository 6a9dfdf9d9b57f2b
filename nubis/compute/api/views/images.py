"""Images as Nova's image proxy shows them (``/v2.1/images``): Nova's status, progress and "metadata"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubis.compute.api.views import links
from nubis.compute.core import image_proxy


def listed(base: str, image: Mapping[str, Any]) -> dict[str, Any]:
    """One image of ``GET /images``: id, name and links."""
    return {"id": image["id"], "name": image.get("name"), "links": _links(base, image["id"])}


def detailed(base: str, image: Mapping[str, Any], image_endpoint: str | None) -> dict[str, Any]:
    """One image of ``GET /images/detail`` or ``GET /images/{id}``.

    ``status`` is Nova's (ACTIVE, SAVING, DELETED, ERROR, UNKNOWN) and ``progress`` its percentage for it;
    ``minRam`` in MiB and ``minDisk`` in GiB; ``metadata`` the image's additional properties; ``server``
    when the image is a snapshot of a server (its ``instance_uuid`` property).
    """
    status = str(image.get("status") or "")
    view: dict[str, Any] = {
        "id": image["id"], "name": image.get("name"), "status": image_proxy.STATUS.get(status, "UNKNOWN"),
        "progress": image_proxy.PROGRESS.get(status, 0), "minRam": int(image.get("min_ram") or 0),
        "minDisk": int(image.get("min_disk") or 0), "created": image.get("created_at"),
        "updated": image.get("updated_at"), "metadata": image_proxy.properties(image),
        "OS-EXT-IMG-SIZE:size": image.get("size"), "links": _links(base, image["id"])}
    if image_endpoint:
        view["links"].append({"rel": "alternate", "type": "application/vnd.openstack.image",
                              "href": f"{image_endpoint.rstrip('/')}/images/{links.path(image['id'])}"})
    server = view["metadata"].get("instance_uuid")
    if server:
        view["server"] = {"id": server, "links": links.links(base, "servers", server)}
    return view


def _links(base: str, image_id: str) -> list[dict[str, str]]:
    return links.links(base, "images", image_id)
