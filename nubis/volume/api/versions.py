"""The versions document: ``/`` (300 Multiple Choices, as Cinder) and ``/v3`` (200)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router

MIN_VERSION = "3.0"
MAX_VERSION = "3.60"
UPDATED = "2020-04-01T00:00:00Z"  # Cinder's date for 3.60


def _v3(req: router.Request) -> dict[str, Any]:
    return {
        "id": "v3.0", "status": "CURRENT", "version": MAX_VERSION, "min_version": MIN_VERSION, "updated": UPDATED,
        "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                  {"rel": "self", "href": f"{req.application_url}/v3/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@router.public
def list_versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [_v3(req)]}, status=300)


@router.public
def show_v3(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [_v3(req)]})


def routes() -> router.RouteTable:
    return {"/": {"GET": list_versions}, "/v3": {"GET": show_v3}}
