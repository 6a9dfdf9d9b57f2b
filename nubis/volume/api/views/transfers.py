"""Volume transfer bodies (Cinder v3 ``transfer``), per microversion and per path (``os-volume-transfer`` or
``volume-transfers``)."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.api.router import Request
from nubis.volume.api.views import timestamp

NO_SNAPSHOTS = Version(3, 55)
HISTORY = Version(3, 57)


def links(req: Request, collection: str, project_id: str, transfer_id: str) -> list[dict[str, str]]:
    base = req.application_url
    return [{"rel": "self", "href": f"{base}/v3/{project_id}/{collection}/{transfer_id}"},
            {"rel": "bookmark", "href": f"{base}/{project_id}/{collection}/{transfer_id}"}]


def summary(req: Request, collection: str, t: dict[str, Any]) -> dict[str, Any]:
    """A brief listing's item, and the body of an accept."""
    return {"id": t["id"], "volume_id": t["volume_id"], "name": t["name"],
            "links": links(req, collection, t["source_project_id"], t["id"])}


def detail(req: Request, collection: str, t: dict[str, Any], version: Version) -> dict[str, Any]:
    """Show and ``/detail`` (and, with the ``auth_key``, the body of a create)."""
    body: dict[str, Any] = {"id": t["id"], "created_at": timestamp(t["created_at"]), "name": t["name"],
                            "volume_id": t["volume_id"],
                            "links": links(req, collection, t["source_project_id"], t["id"])}
    if "auth_key" in t:
        body["auth_key"] = t["auth_key"]
    if version >= NO_SNAPSHOTS:
        body["no_snapshots"] = t["no_snapshots"]
    if version >= HISTORY:
        body.update({"destination_project_id": t["destination_project_id"],
                     "source_project_id": t["source_project_id"], "accepted": t["accepted"]})
    return body
