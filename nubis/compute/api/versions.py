"""Version discovery: ``/``, ``/v2.1`` and the legacy ``/v2`` (no token needed), with the microversion range served."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.compute.api.views import links

MIN_VERSION, MAX_VERSION = "2.1", "2.90"


def _entry(req: router.Request) -> dict[str, Any]:
    return {"id": "v2.1", "status": "CURRENT", "version": MAX_VERSION, "min_version": MIN_VERSION,
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{links.base_url(req)}{links.API_PREFIX}/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


def _legacy_entry(req: router.Request) -> dict[str, Any]:
    """The v2.0 entry Nova's root lists (SUPPORTED, no microversions), so discovery sees what Nova shows."""
    return {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": f"{links.base_url(req)}/v2/"}]}


@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [_legacy_entry(req), _entry(req)]})


@router.public
def version(req: router.Request) -> webob.Response:
    return router.json_response({"version": _entry(req)})


@router.public
def legacy_version(req: router.Request) -> webob.Response:
    """``/v2``: the v2.0 version document, so the root's v2.0 link can be followed (only the document is served)."""
    return router.json_response({"version": _legacy_entry(req)})


def routes(prefix: str) -> router.RouteTable:
    return {"/": {"GET": versions}, prefix: {"GET": version}, "/v2": {"GET": legacy_version}}
