"""Version discovery: ``GET /`` (300, every version) and ``GET /v3``."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router

UPDATED = "2024-01-01T00:00:00Z"
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def _v3(req: router.Request) -> dict[str, Any]:
    return {
        "id": "v3.14", "status": "stable", "updated": UPDATED, "media-types": MEDIA_TYPES,
        "links": [{"rel": "self", "href": req.host_url + "/v3/"}],
    }


@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": {"values": [_v3(req)]}}, status=300,
                                headers={"Location": req.host_url + "/v3/"})


@router.public
def v3(req: router.Request) -> webob.Response:
    return router.json_response({"version": _v3(req)})
