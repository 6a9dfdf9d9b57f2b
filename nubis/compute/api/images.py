"""Nova's image proxy, ``/v2.1/images`` (deprecated; 404 from microversion 2.36 on).

List, show and delete images and read or change their metadata (the image's additional properties)
through the image service, as the caller: what the caller may see and change is the image service's call.
"""

from __future__ import annotations

import re
from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core, until
from nubis.compute.api.views import images as views
from nubis.compute.api.views import links
from nubis.compute.core.image_proxy import ImageProxy, properties

LAST = Version(2, 35)
# Nova's metadata schema: keys of 1 to 255 of these characters, values strings of at most 255.
_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
_MAX_VALUE = 255


def _proxy(req: router.Request) -> ImageProxy:
    proxy = core(req).image_proxy
    assert proxy is not None
    return proxy


def _endpoint(req: router.Request) -> str | None:
    images = _proxy(req).images
    try:
        return images.endpoint() if images is not None else None
    except Exception:  # noqa: BLE001 - the alternate link is optional; no catalog entry just omits it
        return None


def _metadata(value: Any, field: str = "metadata", one: bool = False) -> dict[str, str]:
    if not isinstance(value, dict):
        raise exceptions.BadRequest(f"Invalid input for field/attribute {field}: a JSON object is required.")
    if one and len(value) != 1:
        raise exceptions.BadRequest(f"Invalid input for field/attribute {field}: exactly one key is required.")
    for key, item in value.items():
        if not _KEY.match(key):
            raise exceptions.BadRequest(f"Invalid input for field/attribute {field}: key {key[:64]!r} must be 1 "
                                        "to 255 letters, digits, spaces or -_:.")
        if not isinstance(item, str) or len(item) > _MAX_VALUE:
            raise exceptions.BadRequest(f"Invalid input for field/attribute {field}/{key[:64]}: a string of at "
                                        f"most {_MAX_VALUE} characters is required.")
    return value


@until(LAST)
def list_images(req: router.Request) -> webob.Response:
    authorize(req, "images:list")
    base = links.base_url(req)
    found = _proxy(req).list(context(req), dict(req.GET.items()))
    return router.json_response({"images": [views.listed(base, i) for i in found]})


@until(LAST)
def list_images_detail(req: router.Request) -> webob.Response:
    authorize(req, "images:list")
    base, endpoint = links.base_url(req), _endpoint(req)
    found = _proxy(req).list(context(req), dict(req.GET.items()))
    return router.json_response({"images": [views.detailed(base, i, endpoint) for i in found]})


@until(LAST)
def show_image(req: router.Request, image_id: str) -> webob.Response:
    authorize(req, "images:show")
    image = _proxy(req).get(context(req), image_id)
    return router.json_response({"image": views.detailed(links.base_url(req), image, _endpoint(req))})


@until(LAST)
def delete_image(req: router.Request, image_id: str) -> webob.Response:
    authorize(req, "images:delete")
    _proxy(req).delete(context(req), image_id)
    return router.empty_response(204)


@until(LAST)
def image_metadata(req: router.Request, image_id: str) -> webob.Response:
    """GET: the metadata; POST: merge into it; PUT: replace it. The metadata after, as ``{"metadata": ...}``."""
    proxy, ctx = _proxy(req), context(req)
    if req.method == "GET":
        authorize(req, "images:show")
        return router.json_response({"metadata": properties(proxy.get(ctx, image_id))})
    authorize(req, "images:update")
    values = _metadata(body_of(req).get("metadata"))
    return router.json_response({"metadata": proxy.set_properties(ctx, image_id, values,
                                                                  purge=req.method == "PUT")})


@until(LAST)
def image_metadata_item(req: router.Request, image_id: str, key: str) -> webob.Response:
    """GET/PUT/DELETE one metadata item (``{"meta": {key: value}}``); 404 for a key the image lacks."""
    proxy, ctx = _proxy(req), context(req)
    if req.method == "GET":
        authorize(req, "images:show")
        have = properties(proxy.get(ctx, image_id))
        if key not in have:
            raise exceptions.NotFound(f"Image {image_id} has no metadata with key {key[:255]}.")
        return router.json_response({"meta": {key: have[key]}})
    authorize(req, "images:update")
    if req.method == "DELETE":
        proxy.delete_property(ctx, image_id, key)
        return router.empty_response(204)
    meta = _metadata(body_of(req).get("meta"), "meta", one=True)
    if key not in meta:
        raise exceptions.BadRequest("Request body and URI mismatch")
    proxy.set_properties(ctx, image_id, meta, purge=False)
    return router.json_response({"meta": meta})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/images": {"GET": list_images},
        f"{prefix}/images/detail": {"GET": list_images_detail},
        f"{prefix}/images/{{image_id}}": {"GET": show_image, "DELETE": delete_image},
        f"{prefix}/images/{{image_id}}/metadata": {"GET": image_metadata, "POST": image_metadata,
                                                   "PUT": image_metadata},
        f"{prefix}/images/{{image_id}}/metadata/{{key}}": {"GET": image_metadata_item, "PUT": image_metadata_item,
                                                          "DELETE": image_metadata_item},
    }
